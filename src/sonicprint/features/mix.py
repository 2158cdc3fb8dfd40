"""Pure functions for the mix fingerprint: stereo image, band levels, dynamics and bandwidth of stereo audio.

These describe how a recording was mixed and mastered rather than what is played: how wide each band sits
in the stereo field, how loud and compressed it is, where its spectrum ends. Arrays in, arrays out; no
paths, globals or randomness. Stereo audio is ``(2, n)``; band arrays are ``(n_bands, t)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from .spectral import windowed_spectra

_EPS = 1e-10
#: the levels below the 1-4 kHz reference at which :func:`bandwidth_khz` reads the spectrum's upper edge
BANDWIDTH_DROPS_DB = (40.0, 60.0, 80.0)
N_DYNAMICS = 6


def as_stereo(samples: np.ndarray) -> np.ndarray:
    """``(channels, n)`` -> ``(2, n)``: mono is duplicated, more than two channels keep the first two
    (front left and right in the usual layouts)."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 2 or samples.shape[0] == 0:
        raise ValueError(f"expected audio of shape (channels, n), got {samples.shape}")
    if samples.shape[0] == 1:
        return np.concatenate([samples, samples])
    return samples[:2]


def stft(y: np.ndarray, *, n_fft: int, hop_length: int) -> np.ndarray:
    """Complex STFT with a Hann window over frames that lie wholly inside the signal.

    Not centred: the windows this is used on are cut from the middle of tracks, and zero padding at their
    edges would add a broadband step that reads as high-frequency content. A signal shorter than one frame
    is zero-padded at its end to one frame.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    n_fft, hop_length : int

    Returns
    -------
    np.ndarray [shape=(1 + n_fft // 2, t)], complex64
        ``t = 1 + (max(n, n_fft) - n_fft) // hop_length``.
    """
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"expected one channel of shape (n,), got {y.shape}")
    if y.size < n_fft:
        y = np.pad(y, (0, n_fft - y.size))
    frames = np.lib.stride_tricks.sliding_window_view(y, n_fft)[::hop_length]
    out = np.empty((frames.shape[0], 1 + n_fft // 2), dtype=np.complex64)
    for start, spectrum in windowed_spectra(frames):
        out[start : start + len(spectrum)] = spectrum
    return np.ascontiguousarray(out.T)


def band_edges(*, n_bands: int, fmin: float, fmax: float) -> np.ndarray:
    """The ``n_bands + 1`` log-spaced band edges (Hz) from ``fmin`` to ``fmax``."""
    if not 0 < fmin < fmax or n_bands < 1:
        raise ValueError(f"need 0 < fmin < fmax and n_bands >= 1, got {fmin}, {fmax}, {n_bands}")
    return np.geomspace(fmin, fmax, n_bands + 1)


@lru_cache(maxsize=16)
def band_filterbank(
    *, sample_rate: int, n_fft: int, n_bands: int = 32, fmin: float = 40.0, fmax: float = 20000.0
) -> np.ndarray:
    """Rectangular bands with log-spaced edges from ``fmin`` to ``fmax``: ``(n_bands, 1 + n_fft // 2)``.

    A band too narrow to hold an FFT bin takes the bin nearest its centre, so no band is empty; the part of
    the range above the Nyquist frequency is clipped to it.
    """
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    edges = band_edges(n_bands=n_bands, fmin=fmin, fmax=min(fmax, sample_rate / 2))
    basis = np.zeros((n_bands, freqs.size), dtype=np.float32)
    for band in range(n_bands):
        inside = (freqs >= edges[band]) & (freqs < edges[band + 1])
        if inside.any():
            basis[band, inside] = 1.0
        else:
            basis[band, np.argmin(np.abs(freqs - np.sqrt(edges[band] * edges[band + 1])))] = 1.0
    basis.setflags(write=False)
    return basis


def band_powers(left: np.ndarray, right: np.ndarray, *, band_basis: np.ndarray) -> np.ndarray:
    """Per-band powers of a stereo signal from its two STFTs: left, right, mid, side and the cross term.

    Parameters
    ----------
    left, right : np.ndarray [shape=(n_bins, t)], complex
        STFTs of the two channels (:func:`stft`).
    band_basis : np.ndarray [shape=(n_bands, n_bins)]

    Returns
    -------
    np.ndarray [shape=(5, n_bands, t)], float64
        ``|L|^2, |R|^2, |(L+R)/2|^2, |(L-R)/2|^2, Re(L conj(R))`` summed over each band's bins.
    """
    mid, side = (left + right) * 0.5, (left - right) * 0.5
    spectra = [
        np.abs(left) ** 2,
        np.abs(right) ** 2,
        np.abs(mid) ** 2,
        np.abs(side) ** 2,
        (left * right.conj()).real,
    ]
    basis = band_basis.astype(np.float64)
    return np.stack([basis @ s.astype(np.float64) for s in spectra])


def stereo_image(powers: np.ndarray) -> np.ndarray:
    """Band levels and stereo image from :func:`band_powers` (frames of several clips concatenated on the
    last axis).

    Returns
    -------
    np.ndarray [shape=(5 * n_bands,)]
        Per band: mean and std over frames of the mid level (dB); side-to-mid power ratio (dB);
        left-right correlation (-1 to 1; 1 for mono); left-to-right balance (dB).
    """
    left, right, mid, side, cross = powers
    mid_db = 10 * np.log10(mid + _EPS)
    totals = [p.sum(axis=-1) for p in (left, right, mid, side, cross)]
    left_t, right_t, mid_t, side_t, cross_t = totals
    return np.concatenate(
        [
            mid_db.mean(axis=-1),
            mid_db.std(axis=-1),
            10 * np.log10((side_t + _EPS) / (mid_t + _EPS)),
            cross_t / np.sqrt(left_t * right_t + _EPS),
            10 * np.log10((left_t + _EPS) / (right_t + _EPS)),
        ]
    )


def dynamics(clips: Sequence[np.ndarray], *, frame_length: int, hop_length: int) -> np.ndarray:
    """Level and dynamics of stereo clips ``(2, n)`` taken together.

    Returns
    -------
    np.ndarray [shape=(6,)]
        Peak (dBFS), RMS of the mid signal (dBFS), crest factor (dB), loudness range (95th minus 10th
        percentile of frame RMS, dB), and the share of samples at or above 0.98 and 0.9 of full scale
        (clipping and limiting).
    """
    samples = np.concatenate([np.asarray(c, dtype=np.float32) for c in clips], axis=-1)
    if samples.shape[-1] == 0:
        raise ValueError("cannot measure the dynamics of zero samples")
    mid = samples.mean(axis=0)
    peak = float(np.abs(samples).max()) + _EPS
    rms = float(np.sqrt(np.mean(mid.astype(np.float64) ** 2))) + _EPS
    padded = np.pad(mid, (0, max(0, frame_length - mid.size)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, frame_length)[::hop_length]
    frame_db = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=-1) + _EPS)
    magnitude = np.abs(samples)
    return np.array(
        [
            20 * np.log10(peak),
            20 * np.log10(rms),
            20 * np.log10(peak / rms),
            np.percentile(frame_db, 95) - np.percentile(frame_db, 10),
            np.mean(magnitude >= 0.98),
            np.mean(magnitude >= 0.9),
        ]
    )


def bandwidth_khz(
    mean_power: np.ndarray, *, sample_rate: int, n_fft: int, drops_db: Sequence[float] = BANDWIDTH_DROPS_DB
) -> np.ndarray:
    """Where the spectrum ends: the highest frequency (kHz) whose mean power is within each of ``drops_db``
    of the mean 1-4 kHz level (a lossy encoder's low-pass, a band-limited master, a low sample rate).

    Parameters
    ----------
    mean_power : np.ndarray [shape=(1 + n_fft // 2,)]
        Power spectrum averaged over frames.

    Returns
    -------
    np.ndarray [shape=(len(drops_db),)]
    """
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    level = 10 * np.log10(np.asarray(mean_power, dtype=np.float64) + _EPS)
    reference = level[(freqs >= 1000) & (freqs <= 4000)].mean()
    edges = []
    for drop in drops_db:
        above = np.nonzero(level > reference - drop)[0]
        edges.append(freqs[above.max()] / 1000 if above.size else 0.0)
    return np.array(edges)


def mix_fingerprint(
    clips: Sequence[np.ndarray], *, sample_rate: int, n_fft: int, hop_length: int, band_basis: np.ndarray
) -> np.ndarray:
    """The mix fingerprint of stereo clips ``(2, n)`` taken together.

    Returns
    -------
    np.ndarray [shape=(5 * n_bands + 6 + 3,)], float32
        :func:`stereo_image`, then :func:`dynamics`, then :func:`bandwidth_khz`.
    """
    if not clips:
        raise ValueError("no clips to summarise")
    stereo = [as_stereo(c) for c in clips]
    spectra = [
        (stft(s[0], n_fft=n_fft, hop_length=hop_length), stft(s[1], n_fft=n_fft, hop_length=hop_length))
        for s in stereo
    ]
    powers = np.concatenate(
        [band_powers(left, right, band_basis=band_basis) for left, right in spectra], axis=-1
    )
    mean_power = np.concatenate(
        [np.abs(left) ** 2 + np.abs(right) ** 2 for left, right in spectra], axis=-1
    ).mean(axis=-1)
    return np.concatenate(
        [
            stereo_image(powers),
            dynamics(stereo, frame_length=n_fft, hop_length=hop_length),
            bandwidth_khz(mean_power, sample_rate=sample_rate, n_fft=n_fft),
        ]
    ).astype(np.float32)


#: the names (with units) of :func:`profile`'s values, in order
PROFILE_NAMES = (
    "stereo width, side/mid (dB)",
    "left-right correlation",
    "RMS (dBFS)",
    "peak (dBFS)",
    "crest factor (dB)",
    "loudness range (dB)",
    "samples near full scale (%)",
    "bandwidth (kHz)",
)


def profile(
    fingerprint: np.ndarray,
    *,
    n_bands: int = 32,
    fmin: float = 40.0,
    fmax: float = 20000.0,
    width_range_hz: tuple[float, float] = (200.0, 8000.0),
) -> np.ndarray:
    """A readable summary of mix fingerprints (:func:`mix_fingerprint` vectors): the numbers a mixing
    engineer would quote, named by :data:`PROFILE_NAMES`.

    Stereo width and correlation are averaged over the bands whose centres lie in ``width_range_hz`` (below
    it most mixes are mono on purpose, above it little is left); the bandwidth is the 60 dB edge.

    Parameters
    ----------
    fingerprint : np.ndarray [shape=(..., 5 * n_bands + 9)]
    n_bands, fmin, fmax : the band layout the fingerprints were computed with

    Returns
    -------
    np.ndarray [shape=(..., len(PROFILE_NAMES))]
    """
    fingerprint = np.asarray(fingerprint, dtype=np.float64)
    expected = 5 * n_bands + N_DYNAMICS + len(BANDWIDTH_DROPS_DB)
    if fingerprint.shape[-1] != expected:
        raise ValueError(f"expected mix fingerprints of {expected} values, got {fingerprint.shape[-1]}")
    edges = band_edges(n_bands=n_bands, fmin=fmin, fmax=fmax)
    centres = np.sqrt(edges[:-1] * edges[1:])
    inside = (centres >= width_range_hz[0]) & (centres <= width_range_hz[1])
    side_to_mid = fingerprint[..., 2 * n_bands : 3 * n_bands]
    correlation = fingerprint[..., 3 * n_bands : 4 * n_bands]
    peak, rms, crest, loudness_range, clipped, _ = np.moveaxis(
        fingerprint[..., 5 * n_bands : 5 * n_bands + N_DYNAMICS], -1, 0
    )
    bandwidth = fingerprint[..., 5 * n_bands + N_DYNAMICS + BANDWIDTH_DROPS_DB.index(60.0)]
    return np.stack(
        [
            side_to_mid[..., inside].mean(axis=-1),
            correlation[..., inside].mean(axis=-1),
            rms,
            peak,
            crest,
            loudness_range,
            100 * clipped,
            bandwidth,
        ],
        axis=-1,
    )


def maker_profiles(fingerprints: np.ndarray, labels: Sequence[str]) -> dict[str, list[float]]:
    """Each maker's median :func:`profile` over its tracks.

    Parameters
    ----------
    fingerprints : np.ndarray [shape=(n_tracks, 5 * n_bands + 9)]
    labels : the maker of each track

    Returns
    -------
    dict
        maker -> values named by :data:`PROFILE_NAMES`, makers sorted.
    """
    if len(fingerprints) != len(labels):
        raise ValueError(f"{len(fingerprints)} fingerprints but {len(labels)} labels")
    per_track = profile(fingerprints)
    names = np.asarray(labels)
    return {
        maker: [float(v) for v in np.median(per_track[names == maker], axis=0)]
        for maker in sorted(set(labels))
    }
