"""Models that learn from a track's windows and decide per track (mean log-probability of its windows)."""

from __future__ import annotations

import numpy as np

from .base import Classifier
from .fusion import fuse_probabilities


def fit_tracks(
    model: Classifier, features: np.ndarray, labels: np.ndarray, *, n_classes: int, per_window: bool
) -> Classifier:
    """Fit ``model`` on tracks ``(n_tracks, ...)``, or with ``per_window`` on every window of them
    (``features`` shape=(n_tracks, n_windows, dim); each window carries its track's label)."""
    if per_window:
        n_tracks, n_windows = features.shape[:2]
        model.fit(
            features.reshape(n_tracks * n_windows, -1), np.repeat(labels, n_windows), n_classes=n_classes
        )
    else:
        model.fit(features, labels, n_classes=n_classes)
    return model


def predict_windows(model: Classifier, features: np.ndarray) -> np.ndarray:
    """Class probabilities of each window on its own, ``(n_tracks, n_windows, n_classes)``, from
    ``features`` shape=(n_tracks, n_windows, dim)."""
    n_tracks, n_windows = features.shape[:2]
    return model.predict_proba(features.reshape(n_tracks * n_windows, -1)).reshape(n_tracks, n_windows, -1)


def distinct_windows(features: np.ndarray) -> np.ndarray:
    """Which windows are not a copy of an earlier window of the same track, ``(n_tracks, n_windows)`` bool.

    A track no longer than one window repeats that window to fill its rows (so that every track weighs the
    same in training); counted once per track, such windows do not inflate a window-level metric.
    ``features``: shape=(n_tracks, n_windows, ...).
    """
    n_tracks, n_windows = features.shape[:2]
    flat = features.reshape(n_tracks, n_windows, -1)
    keep = np.ones((n_tracks, n_windows), dtype=bool)
    for k in range(1, n_windows):
        copies = [np.all(flat[:, k] == flat[:, j], axis=1) for j in range(k)]
        keep[:, k] = ~np.any(copies, axis=0)
    return keep


def tracks_from_windows(windows: np.ndarray) -> np.ndarray:
    """Per-track probabilities ``(n_tracks, n_classes)`` from per-window ones ``(n_tracks, n_windows,
    n_classes)``: the normalised geometric mean (the mean of the windows' log-probabilities)."""
    return fuse_probabilities([windows[:, k] for k in range(windows.shape[1])])


def predict_tracks(model: Classifier, features: np.ndarray, *, per_window: bool) -> np.ndarray:
    """Class probabilities per track ``(n_tracks, n_classes)``; with ``per_window`` the normalised
    geometric mean over each track's windows (the mean of their log-probabilities)."""
    if not per_window:
        return model.predict_proba(features)
    return tracks_from_windows(predict_windows(model, features))


def embed_tracks(model: Classifier, features: np.ndarray, *, per_window: bool) -> np.ndarray:
    """The model's embedding per track; with ``per_window`` the mean of its windows' embeddings."""
    if not per_window:
        return model.embed(features)
    n_tracks, n_windows = features.shape[:2]
    return (
        model.embed(features.reshape(n_tracks * n_windows, -1)).reshape(n_tracks, n_windows, -1).mean(axis=1)
    )
