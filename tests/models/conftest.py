"""Shared by the model tests: separable Gaussian blobs from a seeded rng."""

from __future__ import annotations

import numpy as np


def blobs(rng, n_per=12, n_classes=3, dim=30):
    centres = rng.normal(0, 3, size=(n_classes, dim))
    x = np.concatenate([c + rng.normal(0, 1, size=(n_per, dim)) for c in centres])
    y = np.repeat(np.arange(n_classes), n_per)
    return x.astype(np.float32), y
