from __future__ import annotations

import librosa
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sonicprint.features import spectral
from tests.conftest import chirp, tone

RATE = 22050


def test_power_spectrogram_matches_librosa(rng):
    y = rng.standard_normal(RATE).astype(np.float32)
    ours = spectral.power_spectrogram(y, n_fft=2048, hop_length=512)
    ref = np.abs(librosa.stft(y, n_fft=2048, hop_length=512)) ** 2
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-3, atol=1e-3 * ref.max())


@settings(max_examples=25, deadline=None)
@given(n=st.integers(min_value=0, max_value=20000), hop=st.sampled_from([128, 256, 512]))
def test_power_spectrogram_frame_count(n, hop):
    y = np.zeros(n, dtype=np.float32)
    out = spectral.power_spectrogram(y, n_fft=1024, hop_length=hop)
    assert out.shape[0] == 513
    assert out.shape[1] == 1 + n // hop  # centred frames, as librosa
    assert out.dtype == np.float32


def test_log_mel_and_mfcc_match_librosa():
    y = chirp(2.0, RATE)[:, 0]
    power = spectral.power_spectrogram(y)
    basis = spectral.mel_filterbank(sample_rate=RATE, n_fft=2048, n_mels=128)
    ours = spectral.mfcc(spectral.log_mel(power, mel_basis=basis), n_mfcc=20)
    ref = librosa.feature.mfcc(y=y, sr=RATE, n_mfcc=20)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, atol=0.05 * np.abs(ref).max())


def test_log_mel_floor_is_top_db_below_peak():
    power = np.abs(np.random.default_rng(0).standard_normal((1025, 10))) ** 2
    power[:, 5] = 0.0
    basis = spectral.mel_filterbank(sample_rate=RATE, n_fft=2048, n_mels=64)
    db = spectral.log_mel(power, mel_basis=basis, top_db=80.0)
    assert db.min() >= db.max() - 80.0 - 1e-4


def test_spectral_contrast_matches_librosa():
    y = chirp(2.0, RATE)[:, 0] + 0.01 * np.random.default_rng(0).standard_normal(2 * RATE).astype(np.float32)
    power = spectral.power_spectrogram(y)
    ours = spectral.spectral_contrast(power, sample_rate=RATE, n_fft=2048)
    ref = librosa.feature.spectral_contrast(S=np.sqrt(power), sr=RATE, n_fft=2048)
    np.testing.assert_allclose(ours, ref, atol=1e-3)


def test_chroma_of_a_tone_peaks_at_its_pitch_class():
    power = spectral.power_spectrogram(tone(440.0, 1.0, RATE)[:, 0])
    chroma = spectral.chroma(power, chroma_basis=spectral.chroma_filterbank(sample_rate=RATE, n_fft=2048))
    assert chroma.shape[0] == 12
    assert np.bincount(chroma.argmax(axis=0)).argmax() == 9  # A, counting from C


def test_spectral_shape_centroid_follows_the_tone():
    low = spectral.spectral_shape(
        spectral.power_spectrogram(tone(300, 1.0, RATE)[:, 0]), sample_rate=RATE, n_fft=2048
    )
    high = spectral.spectral_shape(
        spectral.power_spectrogram(tone(3000, 1.0, RATE)[:, 0]), sample_rate=RATE, n_fft=2048
    )
    assert low.shape[0] == 5
    assert np.median(low[0]) == pytest.approx(300, rel=0.1)
    assert np.median(high[0]) == pytest.approx(3000, rel=0.1)


def test_silence_gives_finite_features():
    power = spectral.power_spectrogram(np.zeros(RATE, dtype=np.float32))
    for array in (
        spectral.spectral_contrast(power, sample_rate=RATE, n_fft=2048),
        spectral.spectral_shape(power, sample_rate=RATE, n_fft=2048),
        spectral.log_mel(power, mel_basis=spectral.mel_filterbank(sample_rate=RATE, n_fft=2048, n_mels=32)),
    ):
        assert np.all(np.isfinite(array))


def test_summary_statistics_shape_and_values():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    out = spectral.summary_statistics(x)
    assert out.shape == (6,)
    np.testing.assert_allclose(out[:3], x.mean(axis=1))
    np.testing.assert_allclose(out[3:], x.std(axis=1))
    with pytest.raises(ValueError, match="zero frames"):
        spectral.summary_statistics(np.zeros((3, 0)))


@settings(max_examples=50, deadline=None)
@given(duration=st.floats(1.0, 1000.0), n=st.integers(1, 12), length=st.floats(1.0, 60.0))
def test_spread_windows_stay_inside_the_track(duration, n, length):
    windows = spectral.spread_windows(duration, n_windows=n, window_s=length)
    assert len(windows) == (1 if duration <= length else n)
    for offset, span in windows:
        assert offset >= 0
        assert offset + span <= duration + 1e-9
    offsets = [w[0] for w in windows]
    assert offsets == sorted(offsets)


def test_fix_length_crops_and_pads():
    x = np.ones((2, 5))
    assert spectral.fix_length(x, frames=3).shape == (2, 3)
    padded = spectral.fix_length(x, frames=8)
    assert padded.shape == (2, 8) and padded[:, 5:].sum() == 0
