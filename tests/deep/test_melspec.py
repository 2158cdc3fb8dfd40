"""The torch log-mel matches the numpy features."""

from __future__ import annotations

import numpy as np
import torch

from sonicprint.deep.melspec import LogMel
from sonicprint.features import spectral


def test_torch_log_mel_matches_the_numpy_features(rng):
    audio = (0.1 * rng.standard_normal((2, 22050))).astype(np.float32)
    ours = LogMel(n_mels=64)(torch.from_numpy(audio)).numpy()
    basis = spectral.mel_filterbank(sample_rate=22050, n_fft=2048, n_mels=64)
    for i in range(2):
        ref = spectral.log_mel(spectral.power_spectrogram(audio[i]), mel_basis=basis)
        np.testing.assert_allclose(ours[i], ref, atol=1e-3)
