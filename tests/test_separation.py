"""Separators: the registry contract, what each one separates, and stems chosen in a feature config."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import numpy as np
import pytest

from sonicprint.cache import extractor_key
from sonicprint.config import FeatureConfig, to_dict
from sonicprint.errors import ConfigError
from sonicprint.features import create_extractor
from sonicprint.pipeline import compute_file_features, decode_windows
from sonicprint.registry import UnknownNameError
from sonicprint.separation import (
    SEPARATORS,
    create_separator,
    harmonic_percussive,
    mid_side,
    parse_stem,
    repet_sim,
)
from tests.conftest import clicks, noise, tone

RATE = 22050


def _energy(x: np.ndarray) -> float:
    return float(np.sum(np.asarray(x, dtype=np.float64) ** 2))


def _input(separator, seconds: float, rng: np.random.Generator) -> np.ndarray:  # type: ignore[no-untyped-def]
    mono = tone(330.0, seconds, RATE)[:, 0] + clicks(seconds, RATE)[:, 0] * 0.5
    if separator.channels == 2:
        return np.stack([mono, noise(seconds, RATE, rng=rng, channels=1)[:, 0]])
    return mono


@pytest.mark.parametrize("name", SEPARATORS.names())
@pytest.mark.parametrize("seconds", [0.3, 6.0])
def test_separator_contract(name, seconds, rng):
    separator = create_separator(name)
    y = _input(separator, seconds, rng)
    stems = separator.separate(y, sample_rate=RATE)
    assert tuple(stems) == separator.stems
    n = y.shape[-1]
    for stem in stems.values():
        assert stem.shape == (n,) and stem.dtype == np.float32 and np.all(np.isfinite(stem))
        assert _energy(stem) <= 1.01 * _energy(y) / y.ndim + 1e-6  # a stem never holds more than the mix
    again = separator.separate(y, sample_rate=RATE)
    for key in stems:
        np.testing.assert_array_equal(stems[key], again[key])  # deterministic
    silent = separator.separate(np.zeros_like(y), sample_rate=RATE)
    assert all(np.all(s == 0) for s in silent.values())


def test_repet_sim_puts_the_repeating_loop_in_the_backing_and_the_one_off_line_in_front():
    seconds, bar = 12.0, 0.5
    t = np.arange(int(seconds * RATE)) / RATE
    # the backing: a two-note loop that repeats every bar; the lead: a glide that never repeats
    loop = 0.3 * np.where((t % bar) < bar / 2, np.sin(2 * np.pi * 220 * t), np.sin(2 * np.pi * 277 * t))
    glide = 0.3 * np.sin(2 * np.pi * (600 * t + 40 * t**2))
    vocals, backing = repet_sim((loop + glide).astype(np.float32), sample_rate=RATE)

    def share(stem: np.ndarray, source: np.ndarray) -> float:  # how much of ``stem`` follows ``source``
        return float(np.dot(stem, source) ** 2 / (_energy(stem) * _energy(source)))

    assert share(vocals, glide) > 3 * share(vocals, loop)
    assert share(backing, loop) > 3 * share(backing, glide)


def test_hpss_sends_clicks_to_percussive_and_a_tone_to_harmonic():
    steady = tone(440.0, 3.0, RATE)[:, 0]
    hits = clicks(3.0, RATE)[:, 0]
    harmonic, percussive = harmonic_percussive(steady + hits)
    assert _energy(harmonic - steady) < 0.2 * _energy(steady)
    assert _energy(percussive - hits) < 0.3 * _energy(hits)
    np.testing.assert_allclose(harmonic + percussive, steady + hits, atol=2e-3)  # soft masks sum to one


def test_mid_side_round_trips_and_a_mono_input_is_all_mid(rng):
    stereo = noise(1.0, RATE, rng=rng).T
    mid, side = mid_side(stereo)
    np.testing.assert_allclose(mid + side, stereo[0], atol=1e-6)
    np.testing.assert_allclose(mid - side, stereo[1], atol=1e-6)
    mono_mid, mono_side = mid_side(stereo[0])
    np.testing.assert_array_equal(mono_mid, stereo[0]) and np.testing.assert_array_equal(mono_side, 0)
    with pytest.raises(ValueError, match=r"takes \(n,\) or \(2, n\) audio"):
        mid_side(np.zeros((3, 10)))


@pytest.mark.parametrize(
    ("spec", "error", "message"),
    [
        ("repet_sim", ConfigError, "named 'separator:stem'"),
        ("repet_sim:drums", ConfigError, "no stem 'drums'; its stems: vocals, backing"),
        ("demucs:vocals", UnknownNameError, "unknown separator 'demucs'; known: hpss, mid_side, repet_sim"),
    ],
)
def test_a_wrong_stem_is_a_clear_error(spec, error, message):
    with pytest.raises(error, match=message):
        parse_stem(spec)


def test_a_stem_feeds_mono_extractors_only_and_must_name_one():
    with pytest.raises(ConfigError, match="mix_stats reads stereo audio and a separated stem is mono"):
        create_extractor(FeatureConfig(extractor="mix_stats", separate="hpss:harmonic"))
    with pytest.raises(ConfigError, match="separate is 'separator:stem'"):
        FeatureConfig(separate="vocals")
    assert create_extractor(FeatureConfig(separate="repet_sim:vocals")).channels == 1


def test_a_stem_has_its_own_cache_key_and_the_full_mix_keeps_its_old_one():
    full = FeatureConfig()
    legacy = {k: v for k, v in to_dict(full).items() if k != "separate"}  # the fields before stems
    expected = hashlib.sha256(json.dumps(legacy, sort_keys=True).encode()).hexdigest()[:16]
    assert extractor_key(full).endswith(expected)
    stems = {extractor_key(replace(full, separate=s)) for s in ("hpss:harmonic", "hpss:percussive")}
    assert len(stems) == 2 and extractor_key(full) not in stems


def test_decoded_windows_are_the_chosen_stem(tmp_path, write_audio, rng):
    left = noise(3.0, RATE, rng=rng, channels=1)
    path = write_audio("antiphase.wav", np.hstack([left, -left]), RATE)  # all side, no mid
    config = FeatureConfig(extractor="track_stats", n_windows=2, window_s=1.0)
    side = decode_windows(path, replace(config, separate="mid_side:side"), 3.0)
    mid = decode_windows(path, replace(config, separate="mid_side:mid"), 3.0)
    assert all(w.shape == (RATE,) and w.dtype == np.float32 for w in side + mid)
    assert all(_energy(m) < 1e-6 * _energy(s) for m, s in zip(mid, side))  # up to 16-bit rounding
    full = compute_file_features(path, config)
    on_side = compute_file_features(path, replace(config, separate="mid_side:side"))
    assert full.shape == on_side.shape and np.all(np.isfinite(on_side))
    assert not np.allclose(full, on_side)  # the downmix of an anti-phase file is silence; its side is not
