"""Audio I/O: decoding through a fallback chain of backends, windowed reads, resampling, downmix."""

from .decode import (
    DECODERS,
    AudioInfo,
    DecodedAudio,
    downmix,
    load_audio,
    probe_audio,
    resample,
)

__all__ = ["DECODERS", "AudioInfo", "DecodedAudio", "downmix", "load_audio", "probe_audio", "resample"]
