"""Feature extractors: a registry of named recipes that turn decoded windows of a track into an array.

An extractor says which windows of a track it needs (:meth:`Extractor.windows`), at which rate and with how
many channels, and computes its output from the decoded windows (:meth:`Extractor.compute`, pure). Decoding
and caching happen elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import ClassVar

import numpy as np

from ..config import FeatureConfig
from ..errors import ConfigError
from ..registry import Registry
from . import mix, spectral

EXTRACTORS: Registry[type[Extractor]] = Registry("feature extractor")


def register_extractor(name: str):  # type: ignore[no-untyped-def]
    def decorate(cls: type[Extractor]) -> type[Extractor]:
        cls.name = name
        EXTRACTORS.add(name, cls)
        return cls

    return decorate


def create_extractor(config: FeatureConfig) -> Extractor:
    """The extractor named by ``config.extractor``, configured by ``config``.

    Raises
    ------
    UnknownNameError
        When the extractor, or the separator of ``config.separate``, is not registered.
    ConfigError
        When ``config.separate`` names no stem of its separator, or asks a stereo extractor to read a
        stem (stems are mono).
    """
    extractor = EXTRACTORS.get(config.extractor)(config)
    if config.separate:
        from ..separation import parse_stem

        parse_stem(config.separate)
        if extractor.channels != 1:
            raise ConfigError(
                f"{config.extractor} reads stereo audio and a separated stem is mono; "
                f"use it on the full mix (separate={config.separate!r} given)"
            )
    return extractor


def list_extractors() -> list[str]:
    return EXTRACTORS.names()


class Extractor:
    """Base class: windows to decode, and a pure ``compute`` over the decoded windows (mono ``(n,)``, or
    ``(2, n)`` when ``channels`` is 2)."""

    name: ClassVar[str] = ""
    #: bumped when the output of an extractor changes, so old cache entries are not reused
    version: ClassVar[int] = 1

    #: the rate the extractor's input must have; None: ``config.sample_rate``
    fixed_sample_rate: ClassVar[int | None] = None
    #: 1: windows are downmixed to mono ``(n,)``; 2: they stay stereo ``(2, n)`` (mono files duplicated)
    channels: ClassVar[int] = 1

    def __init__(self, config: FeatureConfig) -> None:
        self.config = config

    @property
    def sample_rate(self) -> int:
        """The rate windows are decoded at for this extractor."""
        return self.fixed_sample_rate or self.config.sample_rate

    def windows(self, duration_s: float) -> list[tuple[float, float]]:
        c = self.config
        return spectral.spread_windows(duration_s, n_windows=c.n_windows, window_s=c.window_s)

    def compute(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def _power(self, clip: np.ndarray) -> np.ndarray:
        c = self.config
        return spectral.power_spectrogram(clip, n_fft=c.n_fft, hop_length=c.hop_length)

    def _log_mel(self, power: np.ndarray) -> np.ndarray:
        c = self.config
        basis = spectral.mel_filterbank(sample_rate=c.sample_rate, n_fft=c.n_fft, n_mels=c.n_mels)
        return spectral.log_mel(power, mel_basis=basis)


@register_extractor("mfcc_matrix")
class MfccMatrix(Extractor):
    """The first study's representation: the MFCC matrix of one window, ``(n_mfcc, mfcc_frames)``.

    With the defaults of :func:`seed_feature_config` (one centred 30 s window, 20 MFCCs, 1280 frames) it has
    25,600 values, the study's "24k features".
    """

    def compute(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        clip = clips[0]
        coefficients = spectral.mfcc(self._log_mel(self._power(clip)), n_mfcc=self.config.n_mfcc)
        return spectral.fix_length(coefficients, frames=self.config.mfcc_frames)


@register_extractor("mfcc_stats")
class MfccStats(Extractor):
    """Mean and standard deviation of the MFCCs over all frames of all windows, ``(2 * n_mfcc,)``."""

    def compute(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        frames = [spectral.mfcc(self._log_mel(self._power(c)), n_mfcc=self.config.n_mfcc) for c in clips]
        return spectral.summary_statistics(np.concatenate(frames, axis=-1))


@register_extractor("track_stats")
class TrackStats(Extractor):
    """Timbre, texture and harmony statistics over windows spread across the track.

    Per frame: MFCCs, their deltas, octave spectral contrast, chroma, and spectral shape (centroid,
    bandwidth, roll-off, flatness, RMS). Output: mean and std of each over all frames of all windows,
    ``(2 * (2 * n_mfcc + 7 + 12 + 5),)``.
    """

    def compute(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        frames = [self.frame_features(clip) for clip in clips]
        return spectral.summary_statistics(np.concatenate(frames, axis=-1))

    def frame_features(self, clip: np.ndarray) -> np.ndarray:
        """The per-frame features of one mono clip, ``(2 * n_mfcc + 7 + 12 + 5, t)``."""
        c = self.config
        power = self._power(clip)
        coefficients = spectral.mfcc(self._log_mel(power), n_mfcc=c.n_mfcc)
        return np.concatenate(
            [
                coefficients,
                spectral.delta(coefficients),
                spectral.spectral_contrast(power, sample_rate=c.sample_rate, n_fft=c.n_fft),
                spectral.chroma(
                    power, chroma_basis=spectral.chroma_filterbank(sample_rate=c.sample_rate, n_fft=c.n_fft)
                ),
                np.log1p(spectral.spectral_shape(power, sample_rate=c.sample_rate, n_fft=c.n_fft)),
            ],
            axis=0,
        )


@register_extractor("logmel")
class LogMel(Extractor):
    """Log-mel spectrogram of each window, ``(n_windows, n_mels, t)`` float16 (for spectrogram models)."""

    def compute(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        frames = int(round(self.config.window_s * self.config.sample_rate / self.config.hop_length)) + 1
        mels = [spectral.fix_length(self._log_mel(self._power(c)), frames=frames) for c in clips]
        return np.stack(mels).astype(np.float16)


@register_extractor("mix_stats")
class MixStats(Extractor):
    """The mix fingerprint: how a recording was mixed and mastered, from its stereo audio at 44.1 kHz.

    Per band (32 log-spaced bands, 40 Hz to 20 kHz): mean and std of the mid level, side-to-mid ratio,
    left-right correlation and balance; then peak, RMS, crest factor, loudness range and near-full-scale
    sample shares; then the spectrum's upper edge at 40/60/80 dB below its 1-4 kHz level. ``(169,)``.
    Analysis frames are fixed (4096 samples, hop 2048) whatever ``n_fft``/``hop_length`` say, since those
    belong to the 22.05 kHz mono features.
    """

    fixed_sample_rate: ClassVar[int | None] = 44100
    channels: ClassVar[int] = 2
    n_fft: ClassVar[int] = 4096
    hop_length: ClassVar[int] = 2048

    def compute(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        basis = mix.band_filterbank(sample_rate=self.sample_rate, n_fft=self.n_fft)
        return mix.mix_fingerprint(
            clips,
            sample_rate=self.sample_rate,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            band_basis=basis,
        )


class _Musicnn(Extractor):
    """A musicnn layer per 3 s patch at 16 kHz, summarised per track: mean and std over all patches of
    all windows. Needs the weights: ``pip install --no-deps musicnn==0.1.0``."""

    variant: ClassVar[str] = ""
    layer: ClassVar[str] = ""
    fixed_sample_rate: ClassVar[int | None] = 16000

    def compute(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        from ..pretrained.musicnn import embed_audio  # torch and the weights, lazily

        per_patch = embed_audio(clips, variant=self.variant)[self.layer]
        return np.concatenate([per_patch.mean(axis=0), per_patch.std(axis=0)]).astype(np.float32)


#: extractor name -> (network, layer, what the layer is, its width); each is summarised as mean and std
#: over 3 s patches, so the feature is twice that width
_MUSICNN_LAYERS = {
    "musicnn_msd_penultimate": ("MSD_musicnn", "penultimate", "penultimate embedding", 200),
    "musicnn_msd_pool": ("MSD_musicnn", "mean_pool", "mean-pooled features", 753),
    "musicnn_mtt_penultimate": ("MTT_musicnn", "penultimate", "penultimate embedding", 200),
    "musicnn_mtt_pool": ("MTT_musicnn", "mean_pool", "mean-pooled features", 753),
    "musicnn_msd_tags": ("MSD_musicnn", "tags", "probabilities of its 50 Last.fm tags", 50),
    "musicnn_mtt_tags": ("MTT_musicnn", "tags", "probabilities of its 50 MagnaTagATune tags", 50),
    "musicnn_msd_vgg_pool5": ("MSD_vgg", "pool5", "flattened last pooling, the tag layer's input", 256),
    "musicnn_mtt_vgg_pool5": ("MTT_vgg", "pool5", "flattened last pooling, the tag layer's input", 256),
    "musicnn_msd_vgg_pooled": (
        "MSD_vgg",
        "pooled",
        "five pooled maps, each averaged over time and frequency",
        640,
    ),
    "musicnn_mtt_vgg_pooled": (
        "MTT_vgg",
        "pooled",
        "five pooled maps, each averaged over time and frequency",
        640,
    ),
}

for _name, (_variant, _layer, _what, _width) in _MUSICNN_LAYERS.items():
    _doc = f"{_variant}'s {_what} ({_width}-d), mean and std over 3 s patches: ``({2 * _width},)``."
    _class_name = "".join(part.capitalize() for part in _name.split("_"))
    register_extractor(_name)(
        type(_class_name, (_Musicnn,), {"variant": _variant, "layer": _layer, "__doc__": _doc})
    )


def seed_feature_config(**overrides: object) -> FeatureConfig:
    """The first study's setting: one centred 30 s window, MFCC matrix (use with model ``knn_pca``)."""
    base = FeatureConfig(extractor="mfcc_matrix", n_windows=1, window_s=30.0, n_mfcc=20)
    return replace(base, **overrides)  # type: ignore[arg-type]
