"""Late fusion of several models' track scores (pure array functions)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ConfigError


def fuse_probabilities(
    probabilities: Sequence[np.ndarray], *, weights: Sequence[float] | None = None, floor: float = 1e-6
) -> np.ndarray:
    """Product-of-experts fusion: the weighted mean of the models' log-probabilities, renormalised.

    Parameters
    ----------
    probabilities : sequence of np.ndarray, each shape=(n_tracks, n_classes)
        Each model's class probabilities for the same tracks, columns in the same label order.
    weights : sequence of float, optional
        One non-negative weight per model (default: equal). Fixed in advance, never fitted on the tracks
        being scored, so the fused figure stays a held-out one.
    floor : float
        Probabilities are clipped to at least ``floor`` first, so one model's zero cannot veto a class.

    Returns
    -------
    np.ndarray, shape=(n_tracks, n_classes)
        Fused probabilities; each row sums to 1.

    Raises
    ------
    ConfigError
        When there are no models, the shapes differ, or the weights do not match.
    """
    if not probabilities:
        raise ConfigError("nothing to fuse: no model probabilities given")
    shapes = {np.shape(p) for p in probabilities}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ConfigError(f"every model must score the same (tracks, classes); got shapes {sorted(shapes)}")
    w = np.ones(len(probabilities)) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (len(probabilities),) or np.any(w < 0) or not w.sum() > 0:
        raise ConfigError(
            f"need one non-negative weight per model ({len(probabilities)}), not all zero; got {list(w)}"
        )
    logs = np.stack([np.log(np.clip(np.asarray(p, dtype=float), floor, None)) for p in probabilities])
    fused = np.tensordot(w / w.sum(), logs, axes=1)
    fused -= fused.max(axis=1, keepdims=True)
    out = np.exp(fused)
    return out / out.sum(axis=1, keepdims=True)
