from __future__ import annotations

import numpy as np
import pytest

from sonicprint.synth import SCALES, make_artists, make_producers, render_track


def test_render_is_deterministic_for_a_seed_and_differs_across_seeds():
    producers = make_producers(np.random.default_rng(0), 2)
    artists = make_artists(np.random.default_rng(0), 2)
    a = render_track(producers[0], artists[0], rng=np.random.default_rng(5), duration_s=3.0)
    b = render_track(producers[0], artists[0], rng=np.random.default_rng(5), duration_s=3.0)
    c = render_track(producers[0], artists[0], rng=np.random.default_rng(6), duration_s=3.0)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_tracks_are_stereo_bounded_and_at_the_producers_loudness():
    producers = make_producers(np.random.default_rng(1), 3)
    artists = make_artists(np.random.default_rng(1), 1)
    for p in producers:
        x = render_track(p, artists[0], rng=np.random.default_rng(0), duration_s=4.0, sample_rate=22050)
        assert x.shape == (2, 4 * 22050) and x.dtype == np.float32
        assert np.abs(x).max() <= 1.0
        rms_db = 20 * np.log10(np.sqrt(np.mean(x**2)))
        assert rms_db == pytest.approx(p.loudness_db, abs=4.0)


def test_styles_are_distinct_and_valid():
    producers = make_producers(np.random.default_rng(2), 5)
    artists = make_artists(np.random.default_rng(2), 4)
    assert len({p.name for p in producers}) == 5
    assert all(a.scale in SCALES and abs(sum(a.step_weights) - 1) < 1e-9 for a in artists)
    assert all(p.tempo[0] < p.tempo[1] for p in producers)
