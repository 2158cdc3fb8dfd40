"""Similarity in a model's embedding space, for "sounds like this" search."""

from __future__ import annotations

import numpy as np


def cosine_similarity(query: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Cosine similarity of ``query`` to each candidate.

    Parameters
    ----------
    query : np.ndarray, shape=(dim,)
    candidates : np.ndarray, shape=(n, dim)

    Returns
    -------
    np.ndarray, shape=(n,)
        In [-1, 1]; a zero vector is similar to nothing (0).
    """
    query = np.asarray(query, dtype=np.float64)
    candidates = np.asarray(candidates, dtype=np.float64).reshape(-1, query.shape[0])
    q_norm = np.linalg.norm(query)
    c_norm = np.linalg.norm(candidates, axis=1)
    scale = np.where((c_norm > 0) & (q_norm > 0), 1.0 / np.maximum(c_norm * q_norm, 1e-300), 0.0)
    return (candidates @ query) * scale
