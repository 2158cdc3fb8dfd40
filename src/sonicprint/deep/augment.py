"""Augmentation: on audio (numpy, before the log-mel) and on spectrograms (torch), all from explicit rngs."""

from __future__ import annotations

import numpy as np
import torch

from ..config import AugmentConfig
from . import transforms


def augment_audio(
    audio: np.ndarray, *, sample_rate: int, config: AugmentConfig, rng: np.random.Generator
) -> np.ndarray:
    """One random draw of the configured audio augmentations; output has the input's length."""
    n = len(audio)
    out = audio
    if config.tempo_change:
        rate = float(rng.uniform(1 - config.tempo_change, 1 + config.tempo_change))
        out = transforms.change_tempo(out, sample_rate=sample_rate, rate=rate)
    if config.pitch_semitones:
        semitones = float(rng.uniform(-config.pitch_semitones, config.pitch_semitones))
        if config.varispeed_pitch:
            out = transforms.varispeed(out, semitones=semitones)
        else:
            out = transforms.shift_pitch(out, sample_rate=sample_rate, semitones=semitones)
    if config.filter_prob and rng.random() < config.filter_prob:
        top = min(8000.0, 0.45 * sample_rate)  # below Nyquist at any rate
        if rng.random() < 0.5:
            out = transforms.butterworth(
                out, sample_rate=sample_rate, cutoff_hz=float(rng.uniform(top / 4, top)), kind="lowpass"
            )
        else:
            out = transforms.butterworth(
                out, sample_rate=sample_rate, cutoff_hz=float(rng.uniform(100, 500)), kind="highpass"
            )
    if config.reverb_prob and rng.random() < config.reverb_prob:
        out = transforms.add_reverb(
            out,
            sample_rate=sample_rate,
            rt60_s=float(rng.uniform(0.2, 1.2)),
            wet=float(rng.uniform(0.2, 0.6)),
            rng=rng,
        )
    if config.codec_prob and rng.random() < config.codec_prob:
        out = transforms.mp3_round_trip(
            out, sample_rate=sample_rate, bitrate=int(rng.choice([48000, 64000, 96000]))
        )
    if config.noise_prob and rng.random() < config.noise_prob:
        out = transforms.add_noise(out, snr_db=float(rng.uniform(15, 40)), rng=rng)
    if config.gain_db:
        out = transforms.gain(out, db=float(rng.uniform(-config.gain_db, config.gain_db)))
    if len(out) != n:  # tempo changes the length: crop or pad back to the clip
        out = out[:n] if len(out) >= n else np.pad(out, (0, n - len(out)))
    return out.astype(np.float32, copy=False)


def spec_augment(spec: torch.Tensor, *, config: AugmentConfig, rng: np.random.Generator) -> torch.Tensor:
    """SpecAugment masks on ``(batch, n_mels, t)`` (masked cells set to the clip's mean)."""
    if not (config.time_masks or config.freq_masks):
        return spec
    out = spec.clone()
    batch, n_mels, n_frames = out.shape
    for b in range(batch):
        fill = out[b].mean()
        for _ in range(config.freq_masks):
            width = int(rng.integers(0, config.freq_mask_bands + 1))
            start = int(rng.integers(0, max(1, n_mels - width)))
            out[b, start : start + width, :] = fill
        for _ in range(config.time_masks):
            width = int(rng.integers(0, config.time_mask_frames + 1))
            start = int(rng.integers(0, max(1, n_frames - width)))
            out[b, :, start : start + width] = fill
    return out


def mixup(
    spec: torch.Tensor, targets: torch.Tensor, *, alpha: float, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mix each example with a shuffled partner: ``(spec, soft targets)``; ``targets`` are one-hot rows."""
    if alpha <= 0:
        return spec, targets
    lam = float(rng.beta(alpha, alpha))
    order = torch.from_numpy(rng.permutation(spec.shape[0])).to(spec.device)
    return lam * spec + (1 - lam) * spec[order], lam * targets + (1 - lam) * targets[order]
