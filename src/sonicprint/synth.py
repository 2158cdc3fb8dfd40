"""Deterministic synthetic music: "producers" (a production chain) crossed with "artists" (a writing style).

A producer fixes the sound: instrument and drum timbres, tempo range, swing, reverb, EQ tilt, compression,
saturation, stereo width and loudness. An artist fixes the writing: scale, melodic steps and leaps, note
density and rhythm, register and chord movement. Every track draws its own values around its producer's
and artist's, so neither is trivially separable. All functions are pure given an explicit
``np.random.Generator``; :func:`sonicprint.demo.generate_collection` writes files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.signal

SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "pentatonic": (0, 2, 4, 7, 9),
    "blues": (0, 3, 5, 6, 7, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
}


@dataclass(frozen=True)
class ProducerStyle:
    name: str
    harmonic_rolloff: float  # amplitude of harmonic h ~ h**-rolloff: bright (1) to dull (2.5)
    odd_harmonics: float  # 0: saw-like, 1: square-like
    kick_hz: float
    kick_decay: float
    snare_tone: float  # noise low-pass cut-off in Hz
    hat_level: float
    tempo: tuple[float, float]
    swing: float
    reverb_s: float
    reverb_mix: float
    tilt_db: float  # dB per octave around 1 kHz
    compression: float  # 0 none .. 1 heavy
    drive: float  # saturation
    width: float
    loudness_db: float


@dataclass(frozen=True)
class ArtistStyle:
    name: str
    scale: str
    step_weights: tuple[float, ...]  # probability of moving 0..4 scale steps
    density: float  # probability that a sixteenth starts a note
    note_sixteenths: tuple[int, ...]  # favourite note lengths
    register: int  # MIDI note of the tonic
    progression: tuple[int, ...]  # scale degrees of the bass, one per bar


def make_producers(rng: np.random.Generator, n: int) -> list[ProducerStyle]:
    """``n`` producers with distinct, consistent production chains."""
    out = []
    for i in range(n):
        low = rng.uniform(78, 132)
        out.append(
            ProducerStyle(
                name=f"Producer {chr(ord('A') + i)}",
                harmonic_rolloff=float(rng.uniform(1.0, 2.4)),
                odd_harmonics=float(rng.uniform(0, 1)),
                kick_hz=float(rng.uniform(45, 75)),
                kick_decay=float(rng.uniform(0.08, 0.3)),
                snare_tone=float(rng.uniform(1500, 7000)),
                hat_level=float(rng.uniform(0.02, 0.15)),
                tempo=(float(low), float(low + rng.uniform(6, 20))),
                swing=float(rng.uniform(0, 0.3)),
                reverb_s=float(rng.uniform(0.2, 2.0)),
                reverb_mix=float(rng.uniform(0.05, 0.4)),
                tilt_db=float(rng.uniform(-3, 2)),
                compression=float(rng.uniform(0, 1)),
                drive=float(rng.uniform(0.5, 4)),
                width=float(rng.uniform(0.1, 1.0)),
                loudness_db=float(rng.uniform(-22, -12)),
            )
        )
    return out


def make_artists(rng: np.random.Generator, n: int) -> list[ArtistStyle]:
    """``n`` artists with distinct, consistent writing habits."""
    names = list(SCALES)
    out = []
    for i in range(n):
        steps = rng.dirichlet(np.array([1.0, 4.0, 2.0, 1.0, 0.5]) * rng.uniform(0.5, 2, size=5))
        out.append(
            ArtistStyle(
                name=f"Artist {i + 1}",
                scale=names[int(rng.integers(len(names)))],
                step_weights=tuple(float(s) for s in steps),
                density=float(rng.uniform(0.2, 0.7)),
                note_sixteenths=tuple(int(x) for x in rng.choice([1, 2, 3, 4, 6, 8], size=2, replace=False)),
                register=int(rng.integers(57, 74)),
                progression=tuple(int(x) for x in rng.choice(7, size=4)),
            )
        )
    return out


def _jitter(rng: np.random.Generator, value: float, spread: float) -> float:
    return float(value * (1 + rng.normal(0, spread)))


DEFAULT_VARIATION = 2.5


def _tone(
    freq: float, n: int, *, sample_rate: int, rolloff: float, odd: float, rng: np.random.Generator
) -> np.ndarray:
    t = np.arange(n) / sample_rate
    out = np.zeros(n)
    phase = rng.uniform(0, 2 * np.pi)
    for h in range(1, 16):
        if h * freq >= sample_rate / 2:
            break
        amp = h**-rolloff * (1 - odd if h % 2 == 0 else 1.0)
        out += amp * np.sin(2 * np.pi * h * freq * t + phase * h)
    attack = min(n, int(0.01 * sample_rate))
    env = np.exp(-t * rng.uniform(2, 6))
    env[:attack] *= np.linspace(0, 1, attack)
    return out * env


def _midi_hz(note: float) -> float:
    return float(440.0 * 2 ** ((note - 69) / 12))


def render_track(
    producer: ProducerStyle,
    artist: ArtistStyle,
    *,
    rng: np.random.Generator,
    duration_s: float = 20.0,
    sample_rate: int = 22050,
    variation: float = DEFAULT_VARIATION,
) -> np.ndarray:
    """One stereo track ``(2, n)`` float32 in [-1, 1] written by ``artist`` and produced by ``producer``."""
    n = int(duration_s * sample_rate)
    tempo = rng.uniform(*producer.tempo)
    sixteenth = 60.0 / tempo / 4
    swing = np.clip(producer.swing + rng.normal(0, 0.05 * variation), 0, 0.45)
    n_steps = int(duration_s / sixteenth)
    onsets = np.array([(k + (swing if k % 2 else 0.0)) * sixteenth for k in range(n_steps)])
    drums = np.zeros(n)
    music = np.zeros(n)
    rolloff = max(0.3, _jitter(rng, producer.harmonic_rolloff, 0.1 * variation))
    odd = float(np.clip(producer.odd_harmonics + rng.normal(0, 0.1 * variation), 0, 1))
    # drums
    kick_len = int(0.4 * sample_rate)
    tk = np.arange(kick_len) / sample_rate
    kick_hz = _jitter(rng, producer.kick_hz, 0.05 * variation)
    kick = np.sin(2 * np.pi * kick_hz * tk * (1 + 2 * np.exp(-tk * 30))) * np.exp(-tk / producer.kick_decay)
    b, a = scipy.signal.butter(
        2,
        float(np.clip(_jitter(rng, producer.snare_tone, 0.1 * variation), 300, sample_rate / 2.2)),
        fs=sample_rate,
    )
    snare_len = int(0.25 * sample_rate)
    hat_len = int(0.05 * sample_rate)
    for k, start in enumerate(onsets):
        i = int(start * sample_rate)
        if i >= n:
            break
        if k % 8 == 0 or (k % 16 == 10 and rng.random() < 0.5):
            seg = kick[: n - i]
            drums[i : i + len(seg)] += 0.9 * seg
        if k % 8 == 4:
            noise = scipy.signal.lfilter(b, a, rng.standard_normal(snare_len)) * np.exp(
                -np.arange(snare_len) / (0.06 * sample_rate)
            )
            seg = noise[: n - i]
            drums[i : i + len(seg)] += 0.5 * seg
        if k % 2 == 0:
            hat = np.diff(rng.standard_normal(hat_len + 1)) * np.exp(
                -np.arange(hat_len) / (0.01 * sample_rate)
            )
            seg = hat[: n - i]
            drums[i : i + len(seg)] += producer.hat_level * seg
    # melody and bass
    scale = SCALES[artist.scale]
    key_shift = int(rng.integers(-3, 4))
    degree = 0
    k = 0
    steps = np.array(artist.step_weights)
    while k < n_steps:
        if rng.random() < artist.density:
            move = int(rng.choice(len(steps), p=steps / steps.sum())) * (1 if rng.random() < 0.5 else -1)
            degree = int(np.clip(degree + move, -len(scale), 2 * len(scale)))
            octave, idx = divmod(degree, len(scale))
            note = artist.register + key_shift + 12 * octave + scale[idx]
            length = int(rng.choice(artist.note_sixteenths))
            i = int(onsets[k] * sample_rate)
            m = min(int(length * sixteenth * sample_rate), n - i)
            if m > 0:
                music[i : i + m] += 0.35 * _tone(
                    _midi_hz(note), m, sample_rate=sample_rate, rolloff=rolloff, odd=odd, rng=rng
                )
            k += length
        else:
            k += 1
    bar = 16
    for j, k0 in enumerate(range(0, n_steps, bar)):
        deg = artist.progression[j % len(artist.progression)] % len(scale)
        i = int(onsets[k0] * sample_rate)
        m = min(int(bar * sixteenth * sample_rate), n - i)
        if m > 0:
            note = artist.register + key_shift - 24 + scale[deg]
            music[i : i + m] += 0.4 * _tone(
                _midi_hz(note), m, sample_rate=sample_rate, rolloff=rolloff + 0.5, odd=odd, rng=rng
            )
    mix = drums + music
    return produce(mix, producer, rng=rng, sample_rate=sample_rate, variation=variation)


def produce(
    mono: np.ndarray,
    producer: ProducerStyle,
    *,
    rng: np.random.Generator,
    sample_rate: int,
    variation: float = DEFAULT_VARIATION,
) -> np.ndarray:
    """The producer's chain on a mono mix: tilt EQ, saturation, compression, reverb, width, loudness.

    ``variation`` scales how far each track strays from the producer's settings.
    """
    x = mono / (np.max(np.abs(mono)) + 1e-9)
    # EQ tilt: blend of a low-passed and a high-passed copy around 1 kHz
    tilt = _jitter(rng, producer.tilt_db, 0.15 * variation) if producer.tilt_db else 0.0
    b_lo, a_lo = scipy.signal.butter(1, 1000, fs=sample_rate)
    low = scipy.signal.lfilter(b_lo, a_lo, x)
    high = x - low
    gain = 10 ** (tilt * 3 / 20)  # about three octaves either side of 1 kHz
    x = low / np.sqrt(gain) + high * np.sqrt(gain)
    drive = max(0.2, _jitter(rng, producer.drive, 0.1 * variation))
    x = np.tanh(drive * x) / np.tanh(drive)
    # compression: gain from a smoothed envelope
    amount = np.clip(producer.compression + rng.normal(0, 0.05 * variation), 0, 1)
    env = np.sqrt(scipy.signal.lfilter([0.002], [1, -0.998], x**2) + 1e-9)
    x = x * (env / (env.max() + 1e-9) + 1e-3) ** (-0.6 * amount)
    # reverb: exponentially decaying noise impulse response, different on each side
    rt = max(0.05, _jitter(rng, producer.reverb_s, 0.1 * variation))
    ir_len = int(rt * sample_rate)
    decay = np.exp(-6.9 * np.arange(ir_len) / ir_len)
    wet = [scipy.signal.fftconvolve(x, rng.standard_normal(ir_len) * decay)[: len(x)] for _ in range(2)]
    wet = [w / (np.std(w) + 1e-9) * np.std(x) for w in wet]
    mix = producer.reverb_mix
    left, right = (1 - mix) * x + mix * wet[0], (1 - mix) * x + mix * wet[1]
    mid, side = (
        (left + right) / 2,
        (left - right) / 2 * np.clip(producer.width + rng.normal(0, 0.05 * variation), 0, 1.5),
    )
    stereo = np.stack([mid + side, mid - side])
    stereo = stereo + rng.normal(0, 10 ** (-60 / 20), size=stereo.shape)  # noise floor
    target = 10 ** (_jitter(rng, producer.loudness_db, 0.03 * variation) / 20)
    stereo *= target / (np.sqrt(np.mean(stereo**2)) + 1e-9)
    return np.clip(stereo, -1, 1).astype(np.float32)
