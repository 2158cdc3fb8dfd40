"""Shared by the deep-path tests: tiny two-class tracks and a small, fast training config."""

from __future__ import annotations

import numpy as np
import pytest

from sonicprint.config import TrainConfig
from sonicprint.deep.train import TrainedNetwork, train_network

RATE = 8000


def two_class_tracks(rng, n_per_class=6, seconds=2.0):
    """Class 0: low tones; class 1: bright noise bursts. Each track: two segments."""
    tracks, labels = [], []
    t = np.arange(int(seconds * RATE)) / RATE
    for label in (0, 1):
        for _ in range(n_per_class):
            segs = []
            for _ in range(2):
                if label == 0:
                    y = 0.3 * np.sin(2 * np.pi * rng.uniform(150, 300) * t)
                else:
                    y = 0.1 * rng.standard_normal(len(t)) * (np.sin(2 * np.pi * 4 * t) > 0)
                segs.append((y + 0.01 * rng.standard_normal(len(t))).astype(np.float32))
            tracks.append(segs)
            labels.append(label)
    return tracks, labels


CONFIG = TrainConfig(
    network="wavenet",
    network_params={"channels": 16, "layers": 3},
    clip_s=0.5,
    hop_s=0.5,
    n_mels=32,
    lr=0.01,
    epochs=4,
    patience=10,
    batch_size=8,
    seed=3,
    device="cpu",
)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    train, train_labels = two_class_tracks(rng)
    val, val_labels = two_class_tracks(rng, n_per_class=3)
    return train, train_labels, val, val_labels


def train_quietly(data, config: TrainConfig = CONFIG, **kwargs) -> TrainedNetwork:  # type: ignore[no-untyped-def]
    """``train_network`` on the fixture's two-class data, quietly."""
    train, train_labels, val, val_labels = data
    options = {"n_classes": 2, "sample_rate": RATE, "config": config, "progress": False, **kwargs}
    return train_network(train, train_labels, val, val_labels, **options)
