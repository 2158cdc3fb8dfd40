"""Audio augmentation: driven by the rng it is given."""

from __future__ import annotations

import numpy as np

from sonicprint.config import AugmentConfig
from tests.deep.conftest import RATE


def test_fast_augmentation_keeps_length_and_varies_with_the_rng():
    from sonicprint.deep.augment import augment_audio

    audio = (0.1 * np.random.default_rng(0).standard_normal(RATE * 2)).astype(np.float32)
    config = AugmentConfig.fast()
    a = augment_audio(audio, sample_rate=RATE, config=config, rng=np.random.default_rng(1))
    b = augment_audio(audio, sample_rate=RATE, config=config, rng=np.random.default_rng(1))
    c = augment_audio(audio, sample_rate=RATE, config=config, rng=np.random.default_rng(2))
    assert a.shape == audio.shape and a.dtype == np.float32 and np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
