"""Audio transforms: the robustness conditions and the random degradations of training copies."""

from __future__ import annotations

import numpy as np
import pytest

from sonicprint.deep import transforms

RATE = 22050


@pytest.fixture
def audio(rng):
    t = np.arange(2 * RATE) / RATE
    return (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.mark.parametrize("name", transforms.CONDITIONS.names())
def test_every_condition_gives_finite_float32_audio_of_about_the_same_length(name, audio):
    out = transforms.CONDITIONS.get(name)(audio, RATE, np.random.default_rng(0))
    assert out.dtype == np.float32 and out.ndim == 1 and np.all(np.isfinite(out))
    assert 0.85 * audio.size <= out.size <= 1.15 * audio.size  # tempo x0.9/x1.1 change the length


def test_random_degradations_are_seeded_and_cover_every_kind(audio):
    descriptions = [transforms.random_degradation(np.random.default_rng(seed))[0] for seed in range(60)]
    kinds = {d.split()[0] for d in descriptions}
    assert kinds == {"tempo", "pitch", "lowpass", "highpass", "noise", "room", "mp3"}
    again = [transforms.random_degradation(np.random.default_rng(seed))[0] for seed in range(60)]
    assert again == descriptions
    for seed in (0, 1, 2):
        _, apply = transforms.random_degradation(np.random.default_rng(seed))
        first = apply(audio, RATE, np.random.default_rng(9))
        np.testing.assert_array_equal(first, apply(audio, RATE, np.random.default_rng(9)))
        assert np.all(np.isfinite(first)) and not np.array_equal(first[: audio.size], audio[: first.size])


def test_per_channel_keeps_mono_mono_and_stereo_stereo(audio):
    noise = transforms.CONDITIONS.get("noise 20 dB SNR")
    mono = transforms.apply_per_channel(noise, audio, sample_rate=RATE, rng=np.random.default_rng(0))
    assert mono.shape == audio.shape
    stereo = transforms.apply_per_channel(
        noise, np.stack([audio, audio]), sample_rate=RATE, rng=np.random.default_rng(0)
    )
    assert stereo.shape == (2, audio.size)
    assert not np.array_equal(stereo[0], stereo[1])  # each channel draws its own noise
