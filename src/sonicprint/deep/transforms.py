"""Audio transforms, used both as training augmentation and as the robustness evaluation's conditions.

Each is a pure function of mono float32 audio ``(n,)``, the sample rate and, where random, an explicit
``np.random.Generator``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.signal

from ..registry import Registry


def change_tempo(audio: np.ndarray, *, sample_rate: int, rate: float) -> np.ndarray:
    """Speed up (``rate`` > 1) or slow down without changing pitch (phase vocoder)."""
    import librosa

    return librosa.effects.time_stretch(audio, rate=rate).astype(np.float32)


def shift_pitch(audio: np.ndarray, *, sample_rate: int, semitones: float) -> np.ndarray:
    import librosa

    return librosa.effects.pitch_shift(audio, sr=sample_rate, n_steps=semitones).astype(np.float32)


def varispeed(audio: np.ndarray, *, semitones: float) -> np.ndarray:
    """Play faster or slower by ``semitones``: pitch and tempo change together (a resampling, cheap)."""
    import soxr

    factor = 2 ** (semitones / 12)
    return np.asarray(soxr.resample(audio, 48000 * factor, 48000, quality="LQ"), dtype=np.float32)


def butterworth(
    audio: np.ndarray, *, sample_rate: int, cutoff_hz: float, kind: str, order: int = 4
) -> np.ndarray:
    """Low- or high-pass (``kind``) Butterworth filter, zero phase."""
    sos = scipy.signal.butter(order, cutoff_hz, btype=kind, fs=sample_rate, output="sos")
    return scipy.signal.sosfiltfilt(sos, audio).astype(np.float32)


def add_noise(audio: np.ndarray, *, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """White noise at ``snr_db`` below the signal's power."""
    power = float(np.mean(audio**2)) + 1e-12
    noise = rng.standard_normal(len(audio)) * np.sqrt(power / 10 ** (snr_db / 10))
    return (audio + noise).astype(np.float32)


def add_reverb(
    audio: np.ndarray, *, sample_rate: int, rt60_s: float, wet: float, rng: np.random.Generator
) -> np.ndarray:
    """A room: exponentially decaying noise impulse response (``rt60_s``), mixed ``wet``."""
    n = max(1, int(rt60_s * sample_rate))
    ir = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)
    ir /= np.sqrt(np.sum(ir**2)) + 1e-12
    tail = scipy.signal.fftconvolve(audio, ir)[: len(audio)]
    return ((1 - wet) * audio + wet * tail).astype(np.float32)


def mp3_round_trip(audio: np.ndarray, *, sample_rate: int, bitrate: int) -> np.ndarray:
    """Encode to MP3 at ``bitrate`` bit/s and decode again (libmp3lame through PyAV), same length."""
    import io

    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=sample_rate)
        stream.bit_rate = bitrate
        stream.layout = "mono"
        frame_size = 1152
        for start in range(0, len(audio), frame_size):
            block = audio[start : start + frame_size].astype(np.float32)[np.newaxis, :]
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block), format="flt", layout="mono")
            frame.sample_rate = sample_rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    buffer.seek(0)
    decoded = []
    with av.open(buffer, "r") as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        for frame in container.decode(audio=0):
            for resampled in resampler.resample(frame):
                decoded.append(resampled.to_ndarray().reshape(-1))
    y = np.concatenate(decoded) if decoded else np.zeros(0, dtype=np.float32)
    # the encoder adds a delay of up to ~1105 samples: align on the best lag, then trim to length
    lag_max = min(3000, len(y) - 1)
    if lag_max > 0 and len(audio) > 4096:
        corr = np.correlate(y[: 4096 + lag_max], audio[:4096], mode="valid")
        y = y[int(np.argmax(corr)) :]
    out = np.zeros(len(audio), dtype=np.float32)
    out[: min(len(y), len(audio))] = y[: len(audio)]
    return out


def gain(audio: np.ndarray, *, db: float) -> np.ndarray:
    return (audio * 10 ** (db / 20)).astype(np.float32)


Condition = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]
CONDITIONS: Registry[Condition] = Registry("robustness condition")
CONDITIONS.add("clean", lambda a, sr, rng: a)
CONDITIONS.add("tempo x0.9", lambda a, sr, rng: change_tempo(a, sample_rate=sr, rate=0.9))
CONDITIONS.add("tempo x1.1", lambda a, sr, rng: change_tempo(a, sample_rate=sr, rate=1.1))
CONDITIONS.add("pitch -2", lambda a, sr, rng: shift_pitch(a, sample_rate=sr, semitones=-2))
CONDITIONS.add("pitch +2", lambda a, sr, rng: shift_pitch(a, sample_rate=sr, semitones=2))
CONDITIONS.add(
    "low-pass 3 kHz", lambda a, sr, rng: butterworth(a, sample_rate=sr, cutoff_hz=3000, kind="lowpass")
)
CONDITIONS.add(
    "high-pass 300 Hz", lambda a, sr, rng: butterworth(a, sample_rate=sr, cutoff_hz=300, kind="highpass")
)
CONDITIONS.add("mp3 64 kbit/s", lambda a, sr, rng: mp3_round_trip(a, sample_rate=sr, bitrate=64000))
CONDITIONS.add("noise 20 dB SNR", lambda a, sr, rng: add_noise(a, snr_db=20, rng=rng))
CONDITIONS.add("room reverb", lambda a, sr, rng: add_reverb(a, sample_rate=sr, rt60_s=0.8, wet=0.5, rng=rng))

#: the robustness evaluation's conditions, in report order
ROBUSTNESS_CONDITIONS = (
    "clean",
    "tempo x0.9",
    "tempo x1.1",
    "pitch -2",
    "pitch +2",
    "low-pass 3 kHz",
    "high-pass 300 Hz",
    "mp3 64 kbit/s",
    "noise 20 dB SNR",
    "room reverb",
)


def random_degradation(rng: np.random.Generator) -> tuple[str, Condition]:
    """One random degradation of random strength, drawn with ``rng``: its description and the transform.

    The kinds and ranges span the robustness conditions: tempo x0.85-1.15, pitch -2.5..+2.5 semitones,
    low-pass 2-8 kHz, high-pass 100-500 Hz, noise at 15-35 dB SNR, a room of 0.3-1.2 s, MP3 at 48-128
    kbit/s. Used to make degraded copies of training tracks for the classical models.
    """
    kind = int(rng.integers(7))
    if kind == 0:
        rate = float(rng.uniform(0.85, 1.15))
        return f"tempo x{rate:.2f}", lambda a, sr, r: change_tempo(a, sample_rate=sr, rate=rate)
    if kind == 1:
        steps = float(rng.uniform(-2.5, 2.5))
        return f"pitch {steps:+.1f}", lambda a, sr, r: shift_pitch(a, sample_rate=sr, semitones=steps)
    if kind in (2, 3):
        filter_kind = "lowpass" if kind == 2 else "highpass"
        cutoff = float(rng.uniform(2000, 8000) if kind == 2 else rng.uniform(100, 500))
        return f"{filter_kind} {cutoff:.0f} Hz", lambda a, sr, r: butterworth(
            a, sample_rate=sr, cutoff_hz=min(cutoff, 0.45 * sr), kind=filter_kind
        )
    if kind == 4:
        snr = float(rng.uniform(15, 35))
        return f"noise {snr:.0f} dB SNR", lambda a, sr, r: add_noise(a, snr_db=snr, rng=r)
    if kind == 5:
        rt60 = float(rng.uniform(0.3, 1.2))
        return f"room {rt60:.1f} s", lambda a, sr, r: add_reverb(
            a, sample_rate=sr, rt60_s=rt60, wet=0.5, rng=r
        )
    bitrate = int(rng.choice([48000, 64000, 96000, 128000]))
    return f"mp3 {bitrate // 1000} kbit/s", lambda a, sr, r: mp3_round_trip(
        a, sample_rate=sr, bitrate=bitrate
    )


def apply_per_channel(
    transform: Condition, audio: np.ndarray, *, sample_rate: int, rng: np.random.Generator
) -> np.ndarray:
    """``transform`` on mono ``(n,)`` audio, or on each channel of ``(channels, n)`` audio (a random
    transform draws each channel's randomness in turn from ``rng``)."""
    if audio.ndim == 1:
        return transform(audio, sample_rate, rng)
    return np.stack([transform(channel, sample_rate, rng) for channel in audio])
