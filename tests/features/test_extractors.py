from __future__ import annotations

import numpy as np
import pytest

from sonicprint.config import FeatureConfig
from sonicprint.features import (
    EXTRACTORS,
    Extractor,
    create_extractor,
    register_extractor,
    seed_feature_config,
)
from sonicprint.registry import DuplicateNameError, UnknownNameError


def noise_clips(extractor: Extractor, rng: np.random.Generator, seconds: float) -> list[np.ndarray]:
    """Three clips in the shape the extractor is fed: ``(n,)`` mono or ``(2, n)`` stereo, at its rate."""
    shape = (int(seconds * extractor.sample_rate),)
    if extractor.channels == 2:
        shape = (2, *shape)
    return [(0.1 * rng.standard_normal(shape)).astype(np.float32) for _ in range(3)]


@pytest.mark.parametrize("name", EXTRACTORS.names())
def test_every_extractor_is_deterministic_finite_and_fixed_size(name, rng):
    config = FeatureConfig(extractor=name, n_windows=3, window_s=3.0)
    extractor = create_extractor(config)
    assert extractor.channels in (1, 2)
    clips = noise_clips(extractor, rng, 3.0)
    first = extractor.compute(clips)
    again = extractor.compute([c.copy() for c in clips])
    np.testing.assert_array_equal(first, again)
    assert np.all(np.isfinite(first.astype(np.float64)))
    shorter = extractor.compute([c[..., : 2 * extractor.sample_rate] for c in clips])
    assert shorter.shape == first.shape  # fixed-size output whatever the clip length
    windows = extractor.windows(60.0)
    assert len(windows) == 3 and all(o >= 0 and o + d <= 60.0 for o, d in windows)


def test_track_stats_dimension():
    config = FeatureConfig(n_mfcc=20)
    out = create_extractor(config).compute(
        [np.random.default_rng(0).standard_normal(22050).astype(np.float32)]
    )
    assert out.shape == (2 * (2 * 20 + 7 + 12 + 5),)


def test_mix_stats_sees_the_stereo_image(rng):
    extractor = create_extractor(FeatureConfig(extractor="mix_stats"))
    y = (0.1 * rng.standard_normal(extractor.sample_rate * 2)).astype(np.float32)
    narrow = extractor.compute([np.stack([y, y])])
    wide = extractor.compute([np.stack([y, rng.permutation(y)])])
    assert narrow.shape == wide.shape == (5 * 32 + 6 + 3,)
    correlation = slice(3 * 32, 4 * 32)
    assert narrow[correlation].min() > 0.99 and wide[correlation].max() < 0.5


def test_seed_config_is_the_studys_24k_mfcc_matrix():
    config = seed_feature_config()
    assert (config.extractor, config.n_windows, config.window_s) == ("mfcc_matrix", 1, 30.0)
    out = create_extractor(config).compute([np.zeros(22050 * 30, dtype=np.float32)])
    assert out.shape == (20, 1280) and out.size >= 24_000


def test_unknown_extractor_lists_the_known_ones():
    with pytest.raises(UnknownNameError, match="track_stats"):
        create_extractor(FeatureConfig(extractor="nope"))


def test_registering_a_name_twice_raises():
    with pytest.raises(DuplicateNameError, match="mfcc_stats"):

        @register_extractor("mfcc_stats")
        class Again(Extractor):
            pass
