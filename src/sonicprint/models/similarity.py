"""Similarity in a model's embedding space, for "sounds like this" search."""

from __future__ import annotations

from collections.abc import Sequence

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
    return _unit_rows(candidates) @ _unit_rows(query[np.newaxis])[0]


def _unit_rows(rows: np.ndarray) -> np.ndarray:
    """Each row scaled to unit length (zero rows stay zero); dividing by the largest entry first keeps
    tiny and huge vectors from underflowing or overflowing when squared."""
    peak = np.abs(rows).max(axis=1, keepdims=True) if rows.size else np.ones((len(rows), 1))
    scaled = np.divide(rows, peak, out=np.zeros_like(rows), where=peak > 0)
    norm = np.linalg.norm(scaled, axis=1, keepdims=True)
    return np.divide(scaled, norm, out=np.zeros_like(scaled), where=norm > 0)


def maker_centroids(embeddings: np.ndarray, labels: Sequence[str], makers: Sequence[str]) -> np.ndarray:
    """Each maker's direction in the embedding space: the mean of their tracks' unit-length embeddings, for
    "sounds like this maker" search (cosine similarity to it).

    Parameters
    ----------
    embeddings : np.ndarray, shape=(n_tracks, dim)
    labels : sequence of str, length n_tracks
        The maker of each track.
    makers : sequence of str
        The makers to describe, in the order of the rows returned.

    Returns
    -------
    np.ndarray, shape=(len(makers), dim), float32

    Raises
    ------
    ValueError
        When the lengths differ or a maker has no track.
    """
    embeddings = np.asarray(embeddings, dtype=np.float64)
    if embeddings.ndim != 2 or len(embeddings) != len(labels):
        raise ValueError(f"{len(labels)} labels for embeddings of shape {embeddings.shape}")
    unit = _unit_rows(embeddings)
    owner = np.asarray(labels, dtype=object)
    missing = [m for m in makers if not np.any(owner == m)]
    if missing:
        raise ValueError(f"no track of {missing[:3]} to describe them by")
    return np.stack([unit[owner == m].mean(axis=0) for m in makers]).astype(np.float32)
