"""Log-mel spectrograms in torch, on CPU or GPU, matching :mod:`sonicprint.features.spectral`."""

from __future__ import annotations

import torch
from torch import nn

from ..features import spectral


class LogMel(nn.Module):
    """``(batch, n)`` audio -> ``(batch, n_mels, t)`` log-mel in dB (floor ``top_db`` below each clip's peak).

    Same frames, window, filterbank and floor as :func:`sonicprint.features.spectral.log_mel`.
    """

    mel_basis: torch.Tensor
    window: torch.Tensor

    def __init__(
        self,
        *,
        sample_rate: int = 22050,
        n_fft: int = 2048,
        hop_length: int = 512,
        n_mels: int = 128,
        top_db: float = 80.0,
    ) -> None:
        super().__init__()
        self.sample_rate, self.n_fft, self.hop_length, self.top_db = sample_rate, n_fft, hop_length, top_db
        basis = spectral.mel_filterbank(sample_rate=sample_rate, n_fft=n_fft, n_mels=n_mels)
        self.register_buffer("mel_basis", torch.from_numpy(basis.copy()), persistent=False)
        self.register_buffer("window", torch.hann_window(n_fft, periodic=True), persistent=False)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        spec = torch.stft(
            audio,
            self.n_fft,
            self.hop_length,
            window=self.window,
            center=True,
            pad_mode="constant",
            return_complex=True,
        )
        power = spec.real**2 + spec.imag**2
        db = 10.0 * torch.log10(torch.clamp(self.mel_basis @ power, min=1e-10))
        peak = db.amax(dim=(-2, -1), keepdim=True)
        return torch.maximum(db, peak - self.top_db)
