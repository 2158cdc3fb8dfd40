"""Pure spectral feature functions on arrays.

No paths, no globals, no hidden randomness: every function takes arrays and keyword-only parameters and
returns arrays. Shapes follow librosa: a signal is ``(..., n)``, a spectrogram ``(..., n_bins, t)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

import numpy as np
import scipy.fft
import scipy.signal

_BLOCK_FRAMES = 64  # frames per FFT call: keeps the working set in cache (measured fastest here)


def power_spectrogram(y: np.ndarray, *, n_fft: int = 2048, hop_length: int = 512) -> np.ndarray:
    """Power spectrogram ``|STFT|**2`` with a Hann window and centred, zero-padded frames.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono audio.
    n_fft, hop_length : int
        Frame length and hop in samples.

    Returns
    -------
    np.ndarray [shape=(1 + n_fft // 2, t)], float32
        ``t = 1 + n // hop_length``.
    """
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"expected mono audio of shape (n,), got {y.shape}")
    padded = np.pad(y, n_fft // 2)
    n_frames = 1 + (padded.shape[0] - n_fft) // hop_length if padded.shape[0] >= n_fft else 0
    if n_frames <= 0:
        return np.zeros((1 + n_fft // 2, 0), dtype=np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop_length][:n_frames]
    out = np.empty((n_frames, 1 + n_fft // 2), dtype=np.float32)
    for start, spectrum in windowed_spectra(frames):
        out[start : start + len(spectrum)] = spectrum.real**2 + spectrum.imag**2
    return np.ascontiguousarray(out.T)


def windowed_spectra(frames: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """Hann-windowed real FFTs of ``frames`` ``(t, n_fft)``, a block of frames at a time: yields
    ``(first frame, spectra (block, 1 + n_fft // 2))``, so callers never hold a windowed copy of them all."""
    window = _hann(frames.shape[-1])
    for start in range(0, len(frames), _BLOCK_FRAMES):
        yield start, scipy.fft.rfft(frames[start : start + _BLOCK_FRAMES] * window, axis=-1)


@lru_cache(maxsize=16)
def _hann(n_fft: int) -> np.ndarray:
    window = scipy.signal.get_window("hann", n_fft, fftbins=True).astype(np.float32)
    window.setflags(write=False)
    return window


@lru_cache(maxsize=16)
def mel_filterbank(*, sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """Slaney-normalised mel filterbank, shape ``(n_mels, 1 + n_fft // 2)`` (read-only, cached)."""
    import librosa

    basis = librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels).astype(np.float32)
    basis.setflags(write=False)
    return basis


def log_mel(
    power: np.ndarray, *, mel_basis: np.ndarray, amin: float = 1e-10, top_db: float | None = 80.0
) -> np.ndarray:
    """Log-mel spectrogram in dB, ``(..., n_mels, t)`` from a power spectrogram ``(..., n_bins, t)``.

    As ``librosa.power_to_db``: values more than ``top_db`` below the loudest cell are raised to that
    floor, so near-silence (fades, gaps) does not dominate statistics (None: no floor).
    """
    mel = mel_basis @ power
    db = 10.0 * np.log10(np.maximum(mel, amin))
    if top_db is not None and db.size:
        db = np.maximum(db, db.max() - top_db)
    return db.astype(np.float32)


def mfcc(log_mel_db: np.ndarray, *, n_mfcc: int = 20) -> np.ndarray:
    """MFCCs ``(..., n_mfcc, t)`` from a dB log-mel spectrogram (orthonormal DCT-II, as librosa)."""
    return scipy.fft.dct(log_mel_db, type=2, norm="ortho", axis=-2)[..., :n_mfcc, :].astype(np.float32)


def delta(features: np.ndarray, *, width: int = 9) -> np.ndarray:
    """First-order local derivative along time (Savitzky-Golay, as librosa), same shape as input."""
    if features.shape[-1] < width:
        return np.zeros_like(features)
    return scipy.signal.savgol_filter(features, width, polyorder=1, deriv=1, axis=-1, mode="interp").astype(
        np.float32
    )


def spectral_shape(power: np.ndarray, *, sample_rate: int, n_fft: int) -> np.ndarray:
    """Centroid, bandwidth, 85% roll-off (Hz), flatness and RMS per frame, shape ``(5, t)``."""
    magnitude = np.sqrt(power)
    freqs = np.linspace(0, sample_rate / 2, power.shape[-2], dtype=np.float32)[:, None]
    total = magnitude.sum(axis=-2, keepdims=True) + 1e-10
    centroid = (freqs * magnitude).sum(axis=-2, keepdims=True) / total
    bandwidth = np.sqrt(((freqs - centroid) ** 2 * magnitude).sum(axis=-2, keepdims=True) / total)
    cumulative = np.cumsum(magnitude, axis=-2)
    rolloff_bin = (cumulative < 0.85 * cumulative[-1:, :]).sum(axis=-2, keepdims=True)
    rolloff = freqs[np.minimum(rolloff_bin, freqs.shape[0] - 1), 0]
    log_power = np.log(power + 1e-10)
    flatness = np.exp(log_power.mean(axis=-2, keepdims=True)) / (power.mean(axis=-2, keepdims=True) + 1e-10)
    rms = np.sqrt(power.sum(axis=-2, keepdims=True) * 2 / n_fft**2)
    return np.concatenate([centroid, bandwidth, rolloff, flatness, rms], axis=-2).astype(np.float32)


def spectral_contrast(
    power: np.ndarray,
    *,
    sample_rate: int,
    n_fft: int,
    n_bands: int = 6,
    fmin: float = 200.0,
    quantile: float = 0.02,
) -> np.ndarray:
    """Octave-band spectral contrast in dB (peak minus valley), shape ``(n_bands + 1, t)``.

    Same bands and definition as ``librosa.feature.spectral_contrast`` on the magnitude spectrogram, but
    sorted along the contiguous axis, which is about 50 times faster here.
    """
    magnitude_t = np.ascontiguousarray(np.sqrt(power).T)  # (t, bins): sort along contiguous memory
    freqs = np.linspace(0, sample_rate / 2, power.shape[-2])
    edges = np.zeros(n_bands + 2)
    edges[1:] = fmin * (2.0 ** np.arange(0, n_bands + 1))
    peaks = np.empty((n_bands + 1, power.shape[-1]), dtype=np.float64)
    valleys = np.empty_like(peaks)
    for k, (low, high) in enumerate(zip(edges[:-1], edges[1:])):
        band = (freqs >= low) & (freqs <= high)
        idx = np.flatnonzero(band)
        if k > 0 and idx.size:
            band[idx[0] - 1] = True
        if k == n_bands and idx.size:
            band[idx[-1] + 1 :] = True
        n_selected = int(band.sum())
        sub = magnitude_t[:, band]
        if k < n_bands:
            sub = sub[:, :-1]
        alpha = int(max(1, np.rint(quantile * n_selected)))
        sub = np.sort(sub, axis=-1)
        valleys[k] = sub[:, :alpha].mean(axis=-1)
        peaks[k] = sub[:, -alpha:].mean(axis=-1)
    return (_power_db(peaks) - _power_db(valleys)).astype(np.float32)


def _power_db(magnitude: np.ndarray, *, amin: float = 1e-10, top_db: float = 80.0) -> np.ndarray:
    """As ``librosa.power_to_db(magnitude)`` (it is applied to magnitudes there too), with ``top_db``."""
    db = 10.0 * np.log10(np.maximum(magnitude, amin))
    return np.maximum(db, db.max() - top_db) if db.size else db


@lru_cache(maxsize=16)
def chroma_filterbank(*, sample_rate: int, n_fft: int) -> np.ndarray:
    """Chroma filterbank, shape ``(12, 1 + n_fft // 2)``, tuned to A440 (read-only, cached)."""
    import librosa

    basis = librosa.filters.chroma(sr=sample_rate, n_fft=n_fft, tuning=0.0).astype(np.float32)
    basis.setflags(write=False)
    return basis


def chroma(power: np.ndarray, *, chroma_basis: np.ndarray) -> np.ndarray:
    """Chroma energy per frame, max-normalised per frame, shape ``(12, t)``."""
    raw = chroma_basis @ power
    return (raw / (raw.max(axis=-2, keepdims=True) + 1e-10)).astype(np.float32)


def summary_statistics(features: np.ndarray) -> np.ndarray:
    """Mean and standard deviation over time: ``(..., d, t)`` -> ``(..., 2 * d)``."""
    if features.shape[-1] == 0:
        raise ValueError("cannot summarise zero frames")
    return np.concatenate([features.mean(axis=-1), features.std(axis=-1)], axis=-1).astype(np.float32)


def fix_length(features: np.ndarray, *, frames: int) -> np.ndarray:
    """Crop or zero-pad the last axis to ``frames``."""
    if features.shape[-1] >= frames:
        return features[..., :frames]
    pad = [(0, 0)] * (features.ndim - 1) + [(0, frames - features.shape[-1])]
    return np.pad(features, pad)


def spread_windows(duration_s: float, *, n_windows: int, window_s: float) -> list[tuple[float, float]]:
    """``n_windows`` (offset, length) windows spread evenly over a track; one centred when ``n_windows=1``.

    A track no longer than a window gives one window covering it whole.
    """
    if duration_s <= window_s:
        return [(0.0, float(duration_s))]
    room = duration_s - window_s
    return [(room * (i + 0.5) / n_windows, float(window_s)) for i in range(n_windows)]
