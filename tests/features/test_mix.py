from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from sonicprint.features import mix, spectral

RATE = 44100
N_FFT, HOP = 4096, 2048
N_BANDS = 32
BASIS = mix.band_filterbank(sample_rate=RATE, n_fft=N_FFT, n_bands=N_BANDS)


def image(stereo: np.ndarray) -> dict[str, np.ndarray]:
    left = mix.stft(stereo[0], n_fft=N_FFT, hop_length=HOP)
    right = mix.stft(stereo[1], n_fft=N_FFT, hop_length=HOP)
    values = mix.stereo_image(mix.band_powers(left, right, band_basis=BASIS)).reshape(5, N_BANDS)
    return dict(zip(("mid_mean", "mid_std", "side_to_mid", "correlation", "balance"), values))


def white(rng: np.random.Generator, seconds: float = 2.0) -> np.ndarray:
    return (0.1 * rng.standard_normal(int(seconds * RATE))).astype(np.float32)


def test_as_stereo_duplicates_mono_and_keeps_the_first_two_of_many():
    mono = np.arange(5, dtype=np.float32)[None]
    assert np.array_equal(mix.as_stereo(mono), np.stack([mono[0], mono[0]]))
    surround = np.arange(30, dtype=np.float32).reshape(6, 5)
    assert np.array_equal(mix.as_stereo(surround), surround[:2])
    with pytest.raises(ValueError, match="channels, n"):
        mix.as_stereo(np.zeros(5))


def test_stft_frames_are_the_inner_frames_of_the_power_spectrogram(rng):
    y = white(rng, 0.5)
    power = np.abs(mix.stft(y, n_fft=N_FFT, hop_length=HOP)) ** 2
    assert power.shape[1] == 1 + (y.size - N_FFT) // HOP
    centred = spectral.power_spectrogram(y, n_fft=N_FFT, hop_length=HOP)
    # hop is half a frame, so the uncentred frame k is the centred frame k + 1
    np.testing.assert_allclose(power, centred[:, 1 : 1 + power.shape[1]], rtol=1e-3, atol=1e-6)
    short = mix.stft(y[:100], n_fft=N_FFT, hop_length=HOP)
    assert short.shape == (1 + N_FFT // 2, 1)


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_no_band_is_empty_and_bands_rise_in_frequency(rate):
    basis = mix.band_filterbank(sample_rate=rate, n_fft=N_FFT, n_bands=N_BANDS)
    assert basis.shape == (N_BANDS, 1 + N_FFT // 2)
    assert np.all(basis.sum(axis=1) >= 1)
    freqs = np.fft.rfftfreq(N_FFT, 1 / rate)
    centres = (basis @ freqs) / basis.sum(axis=1)
    assert np.all(np.diff(centres) >= 0)
    assert centres[-1] <= rate / 2


def test_mono_is_fully_correlated_with_no_side(rng):
    y = white(rng)
    got = image(np.stack([y, y]))
    assert np.all(got["side_to_mid"] < -90)
    np.testing.assert_allclose(got["correlation"], 1.0, atol=1e-4)
    np.testing.assert_allclose(got["balance"], 0.0, atol=1e-4)


def test_antiphase_is_all_side_and_anticorrelated(rng):
    y = white(rng)
    got = image(np.stack([y, -y]))
    assert np.all(got["side_to_mid"] > 90)
    np.testing.assert_allclose(got["correlation"], -1.0, atol=1e-4)


def test_independent_channels_are_uncorrelated_and_as_wide_as_loud(rng):
    got = image(np.stack([white(rng, 6.0), white(rng, 6.0)]))
    upper = slice(8, None)  # the lowest bands hold a few bins only, so their estimates are noisy
    assert np.all(np.abs(got["correlation"][upper]) < 0.1)
    assert np.all(np.abs(got["side_to_mid"][upper]) < 1.0)


def test_a_left_panned_source_leans_left(rng):
    y = white(rng)
    got = image(np.stack([y, 0.25 * y]))
    np.testing.assert_allclose(got["balance"], 20 * np.log10(4), atol=1e-3)


def test_width_is_measured_per_band(rng):
    """Mono bass under a wide top: correlated low bands, uncorrelated high bands."""
    low = scipy.signal.butter(8, 500, fs=RATE, output="sos")
    high = scipy.signal.butter(8, 4000, btype="highpass", fs=RATE, output="sos")
    bass = scipy.signal.sosfilt(low, white(rng, 4.0))
    tops = [scipy.signal.sosfilt(high, white(rng, 4.0)) for _ in range(2)]
    got = image(np.stack([bass + tops[0], bass + tops[1]]).astype(np.float32))
    freqs = np.fft.rfftfreq(N_FFT, 1 / RATE)
    centres = (BASIS @ freqs) / BASIS.sum(axis=1)
    assert np.all(got["correlation"][(centres > 80) & (centres < 250)] > 0.95)
    assert np.all(np.abs(got["correlation"][centres > 6000]) < 0.2)


@settings(max_examples=25, deadline=None)
@given(gain_db=st.floats(-40.0, 20.0), seed=st.integers(0, 2**32 - 1))
def test_gain_shifts_levels_and_leaves_the_image_alone(gain_db, seed):
    rng = np.random.default_rng(seed)
    stereo = np.stack([white(rng, 0.5), white(rng, 0.5) + 0.5 * white(rng, 0.5)])
    base, louder = image(stereo), image((10 ** (gain_db / 20) * stereo).astype(np.float32))
    np.testing.assert_allclose(louder["mid_mean"] - base["mid_mean"], gain_db, atol=1e-2)
    for key in ("mid_std", "side_to_mid", "correlation", "balance"):
        np.testing.assert_allclose(louder[key], base[key], atol=1e-2)


def test_dynamics_of_a_sine_and_a_clipped_square():
    t = np.arange(RATE) / RATE
    sine = 0.5 * np.sin(2 * np.pi * 441 * t)
    peak, rms, crest, loudness_range, clipped, limited = mix.dynamics(
        [np.stack([sine, sine])], frame_length=N_FFT, hop_length=HOP
    )
    assert peak == pytest.approx(20 * np.log10(0.5), abs=0.01)
    assert rms == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.01)
    assert crest == pytest.approx(10 * np.log10(2), abs=0.01)  # a sine's peak is sqrt(2) times its RMS
    assert loudness_range == pytest.approx(0.0, abs=0.1) and clipped == 0 and limited == 0
    square = np.sign(np.sin(2 * np.pi * 441 * t))
    peak, _, crest, _, clipped, _ = mix.dynamics(
        [np.stack([square, square])], frame_length=N_FFT, hop_length=HOP
    )
    assert peak == pytest.approx(0.0, abs=1e-3) and crest == pytest.approx(0.0, abs=0.01)
    assert clipped > 0.99


def test_loudness_range_sees_a_quiet_half():
    t = np.arange(2 * RATE) / RATE
    y = np.sin(2 * np.pi * 441 * t) * np.where(t < 1, 1.0, 0.1)
    loudness_range = mix.dynamics([np.stack([y, y])], frame_length=N_FFT, hop_length=HOP)[3]
    assert loudness_range == pytest.approx(20.0, abs=0.5)


@pytest.mark.parametrize("cutoff", [5000.0, 11000.0, 16000.0])
def test_bandwidth_finds_a_low_pass(rng, cutoff):
    """A brick-wall low-pass, as a lossy encoder applies."""
    spectrum = np.fft.rfft(white(rng, 2.0))
    spectrum[np.fft.rfftfreq(2 * RATE, 1 / RATE) > cutoff] = 0
    y = np.fft.irfft(spectrum).astype(np.float32)
    power = (np.abs(mix.stft(y, n_fft=N_FFT, hop_length=HOP)) ** 2).mean(axis=-1)
    edges = mix.bandwidth_khz(power, sample_rate=RATE, n_fft=N_FFT)
    assert cutoff / 1000 - 0.05 < edges[0] < cutoff / 1000 + 0.1
    assert np.all(np.diff(edges) >= 0)  # a deeper drop reads the edge higher up


def test_fingerprint_shape_and_silence_stays_finite(rng):
    expected = 5 * N_BANDS + mix.N_DYNAMICS + len(mix.BANDWIDTH_DROPS_DB)
    clips = [np.zeros((2, RATE), dtype=np.float32), np.stack([white(rng), white(rng)])]
    for given_clips in (clips[:1], clips, [white(rng)[None]]):
        out = mix.mix_fingerprint(
            given_clips, sample_rate=RATE, n_fft=N_FFT, hop_length=HOP, band_basis=BASIS
        )
        assert out.shape == (expected,) and out.dtype == np.float32
        assert np.all(np.isfinite(out))
    with pytest.raises(ValueError, match="no clips"):
        mix.mix_fingerprint([], sample_rate=RATE, n_fft=N_FFT, hop_length=HOP, band_basis=BASIS)


def test_profile_reads_width_level_and_dynamics_from_fingerprints(rng):
    t = np.arange(2 * RATE) / RATE
    sine = (0.5 * np.sin(2 * np.pi * 441 * t)).astype(np.float32)
    mono, left, right = white(rng), white(rng), white(rng)

    def fingerprint(stereo):
        return mix.mix_fingerprint([stereo], sample_rate=RATE, n_fft=N_FFT, hop_length=HOP, band_basis=BASIS)

    stereos = [np.stack([mono, mono]), np.stack([left, right]), np.stack([sine, sine])]
    profiles = mix.profile(np.stack([fingerprint(s) for s in stereos]))
    assert profiles.shape == (3, len(mix.PROFILE_NAMES))
    narrow, wide, tone = (dict(zip(mix.PROFILE_NAMES, row)) for row in profiles)
    assert narrow["left-right correlation"] == pytest.approx(1.0, abs=1e-3)
    assert narrow["stereo width, side/mid (dB)"] < -90
    assert wide["stereo width, side/mid (dB)"] == pytest.approx(0.0, abs=1.0)
    assert abs(wide["left-right correlation"]) < 0.1
    assert wide["bandwidth (kHz)"] > 19  # white noise fills the band
    assert tone["peak (dBFS)"] == pytest.approx(20 * np.log10(0.5), abs=0.01)
    assert tone["crest factor (dB)"] == pytest.approx(10 * np.log10(2), abs=0.01)
    assert tone["samples near full scale (%)"] == 0
    with pytest.raises(ValueError, match="169 values"):
        mix.profile(np.zeros(10))


def test_maker_profiles_are_medians_per_maker(rng):
    fingerprints = rng.normal(size=(5, 5 * N_BANDS + 9))
    got = mix.maker_profiles(fingerprints, ["b", "a", "b", "a", "b"])
    assert list(got) == ["a", "b"]
    np.testing.assert_allclose(got["b"], np.median(mix.profile(fingerprints[[0, 2, 4]]), axis=0))
    with pytest.raises(ValueError, match="5 fingerprints but 4 labels"):
        mix.maker_profiles(fingerprints, ["a"] * 4)


def test_the_profile_recovers_the_generators_mix_settings():
    """A producer who mixes wider and louder reads wider and louder, whatever is played."""
    from dataclasses import replace

    from sonicprint.synth import make_producers, produce

    producer = make_producers(np.random.default_rng(0), 1)[0]
    music = np.random.default_rng(1).standard_normal(3 * 22050).astype(np.float32)
    rows = []
    for width, loudness in ((0.2, -20.0), (0.6, -16.0), (1.0, -12.0)):
        style = replace(producer, width=width, loudness_db=loudness, reverb_mix=0.3)
        stereo = produce(music, style, rng=np.random.default_rng(2), sample_rate=22050, variation=0.0)
        basis = mix.band_filterbank(sample_rate=22050, n_fft=2048)
        fingerprint = mix.mix_fingerprint(
            [stereo], sample_rate=22050, n_fft=2048, hop_length=1024, band_basis=basis
        )
        # at 22.05 kHz the bands end at the Nyquist frequency
        rows.append(dict(zip(mix.PROFILE_NAMES, mix.profile(fingerprint, fmax=11025.0))))
    widths = [r["stereo width, side/mid (dB)"] for r in rows]
    levels = [r["RMS (dBFS)"] for r in rows]
    assert widths[0] < widths[1] < widths[2]
    assert levels[0] < levels[1] < levels[2]
    assert levels[2] - levels[0] == pytest.approx(8.0, abs=1.5)
