"""Source separation without trained weights: which part of a recording a feature set listens to.

Vocals carry the artist and the backing carries the producer, so a model may do better on one stem than
on the full mix. No separation network ships its weights in a package we may install, so the separators
here are signal processing, registered by name like the other pluggable parts:

- ``repet_sim``: REPET-SIM (Rafii & Pardo, 2012) as in librosa's vocal-separation example: the part of
  the magnitude spectrogram that repeats across similar frames is the ``backing``, the rest (the sporadic
  foreground: usually the voice, or a lead) the ``vocals``; soft (Wiener-style) masks, the mixture's phase.
- ``hpss``: harmonic-percussive separation by median filtering (Fitzgerald, 2010): ``harmonic`` and
  ``percussive``.
- ``mid_side``: the stereo ``mid`` (what sits in the centre: lead vocal, bass, kick in most mixes) and
  ``side`` (what is panned or wide); from a mono input, the side is silent.

Each separator is a pure function of the samples: ``separate(y, sample_rate=...)`` returns a dict of
stems, each mono ``(n,)`` float32, as long as the input. A feature config selects one stem with
``FeatureConfig.separate = "repet_sim:vocals"``.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .errors import ConfigError
from .registry import Registry

SEPARATORS: Registry[type[Separator]] = Registry("separator")
register_separator = SEPARATORS.register


class Separator:
    """Base class: ``stems`` it returns and the ``channels`` its input needs (1: mono ``(n,)``, 2: stereo
    ``(2, n)``)."""

    name: ClassVar[str] = ""
    stems: ClassVar[tuple[str, ...]] = ()
    channels: ClassVar[int] = 1

    def separate(self, y: np.ndarray, *, sample_rate: int) -> dict[str, np.ndarray]:
        raise NotImplementedError


def create_separator(name: str) -> Separator:
    """The separator registered as ``name`` (an unknown name lists the known ones)."""
    return SEPARATORS.get(name)()


def list_separators() -> list[str]:
    return SEPARATORS.names()


def parse_stem(spec: str) -> tuple[Separator, str]:
    """``"separator:stem"`` -> (the separator, the stem's name).

    Raises
    ------
    ConfigError
        When the spec is not ``separator:stem`` or the separator has no such stem.
    """
    name, colon, stem = spec.partition(":")
    if not colon or not name or not stem:
        raise ConfigError(f"a stem is named 'separator:stem' (e.g. 'repet_sim:vocals'), got {spec!r}")
    separator = create_separator(name)
    if stem not in separator.stems:
        raise ConfigError(f"separator {name!r} has no stem {stem!r}; its stems: {', '.join(separator.stems)}")
    return separator, stem


def _stft(y: np.ndarray, n_fft: int, hop_length: int) -> np.ndarray:
    import librosa

    return librosa.stft(np.asarray(y, dtype=np.float32), n_fft=n_fft, hop_length=hop_length)


def _istft(spectrum: np.ndarray, hop_length: int, length: int) -> np.ndarray:
    import librosa

    return librosa.istft(spectrum, hop_length=hop_length, length=length).astype(np.float32)


def repet_sim(
    y: np.ndarray,
    *,
    sample_rate: int,
    n_fft: int = 2048,
    hop_length: int = 512,
    neighbour_gap_s: float = 2.0,
    margin_background: float = 2.0,
    margin_foreground: float = 10.0,
    power: float = 2.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Split mono audio into its non-repeating foreground and its repeating background (REPET-SIM).

    Each frame's background is the median of its most similar frames (cosine similarity, at least
    ``neighbour_gap_s`` apart), capped by the frame itself; soft masks with the given margins split the
    mixture.

    Parameters
    ----------
    y : np.ndarray, shape=(n,)
    sample_rate : int

    Returns
    -------
    foreground, background : np.ndarray, shape=(n,), float32 each
    """
    import librosa

    n = len(y)
    spectrum = _stft(y, n_fft, hop_length)
    magnitude, phase = np.abs(spectrum), np.exp(1j * np.angle(spectrum))
    width = int(librosa.time_to_frames(neighbour_gap_s, sr=sample_rate, hop_length=hop_length))
    if magnitude.shape[1] <= 2 * width + 1 or not np.any(magnitude):
        # too short to find a repeating frame (or silent): everything is foreground
        return np.asarray(y, dtype=np.float32).copy(), np.zeros(n, dtype=np.float32)
    repeating = librosa.decompose.nn_filter(magnitude, aggregate=np.median, metric="cosine", width=width)
    repeating = np.minimum(magnitude, repeating)
    rest = magnitude - repeating
    mask_background = librosa.util.softmask(repeating, margin_background * rest, power=power)
    mask_foreground = librosa.util.softmask(rest, margin_foreground * repeating, power=power)
    foreground = _istft(mask_foreground * magnitude * phase, hop_length, n)
    background = _istft(mask_background * magnitude * phase, hop_length, n)
    return foreground, background


def harmonic_percussive(
    y: np.ndarray, *, n_fft: int = 2048, hop_length: int = 512, kernel_size: int = 31
) -> tuple[np.ndarray, np.ndarray]:
    """Split mono audio into harmonic (steady in time) and percussive (steady in frequency) parts.

    Parameters
    ----------
    y : np.ndarray, shape=(n,)

    Returns
    -------
    harmonic, percussive : np.ndarray, shape=(n,), float32 each; they sum to ``y`` up to the STFT's
        round trip.
    """
    import librosa

    spectrum = _stft(y, n_fft, hop_length)
    harmonic, percussive = librosa.decompose.hpss(spectrum, kernel_size=kernel_size)
    return _istft(harmonic, hop_length, len(y)), _istft(percussive, hop_length, len(y))


def mid_side(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mid ``(L + R) / 2`` and side ``(L - R) / 2`` of stereo audio ``(2, n)``; a mono ``(n,)`` input is
    all mid. ``L = mid + side`` and ``R = mid - side``.

    Returns
    -------
    mid, side : np.ndarray, shape=(n,), float32 each
    """
    y = np.asarray(y, dtype=np.float32)
    if y.ndim == 1:
        return y.copy(), np.zeros_like(y)
    if y.ndim != 2 or y.shape[0] != 2:
        raise ValueError(f"mid_side takes (n,) or (2, n) audio, got shape {y.shape}")
    return (y[0] + y[1]) / 2, (y[0] - y[1]) / 2


@register_separator("repet_sim")
class RepetSim(Separator):
    """REPET-SIM: ``vocals`` (the non-repeating foreground) and ``backing`` (what repeats)."""

    stems = ("vocals", "backing")

    def separate(self, y: np.ndarray, *, sample_rate: int) -> dict[str, np.ndarray]:
        vocals, backing = repet_sim(y, sample_rate=sample_rate)
        return {"vocals": vocals, "backing": backing}


@register_separator("hpss")
class Hpss(Separator):
    """Median-filtering harmonic-percussive separation: ``harmonic`` and ``percussive``."""

    stems = ("harmonic", "percussive")

    def separate(self, y: np.ndarray, *, sample_rate: int) -> dict[str, np.ndarray]:
        harmonic, percussive = harmonic_percussive(y)
        return {"harmonic": harmonic, "percussive": percussive}


@register_separator("mid_side")
class MidSide(Separator):
    """Stereo ``mid`` (the centre) and ``side`` (what is panned or wide)."""

    stems = ("mid", "side")
    channels = 2

    def separate(self, y: np.ndarray, *, sample_rate: int) -> dict[str, np.ndarray]:
        mid, side = mid_side(y)
        return {"mid": mid, "side": side}
