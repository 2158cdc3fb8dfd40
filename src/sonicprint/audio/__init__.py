"""Audio I/O: decoding through a fallback chain of backends, windowed reads, resampling, downmix."""

from .decode import (
    DECODERS,
    AudioInfo,
    DecodedAudio,
    conform_audio,
    downmix,
    load_audio,
    probe_audio,
    read_audio,
    resample,
)

__all__ = [
    "DECODERS",
    "AudioInfo",
    "DecodedAudio",
    "conform_audio",
    "downmix",
    "load_audio",
    "probe_audio",
    "read_audio",
    "resample",
]
