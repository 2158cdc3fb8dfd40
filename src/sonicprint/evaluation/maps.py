"""2-D maps of tracks (t-SNE, UMAP) from any embedding. Deterministic for a seed."""

from __future__ import annotations

import numpy as np

from ..registry import Registry

MAPS: Registry[str] = Registry("map method")
MAPS.add("tsne", "t-SNE")
MAPS.add("umap", "UMAP")


def embedding_map(embedding: np.ndarray, *, method: str = "tsne", seed: int = 0) -> np.ndarray:
    """Project ``(n, d)`` points to ``(n, 2)`` with t-SNE or UMAP."""
    MAPS.get(method)
    x = np.asarray(embedding, dtype=np.float64).reshape(len(embedding), -1)
    n = len(x)
    if n < 4:
        raise ValueError(f"a {method} map needs at least 4 points, got {n}")
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, (n - 1) / 3))
        return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x)
    import warnings

    import umap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reducer = umap.UMAP(n_components=2, n_neighbors=min(15, n - 1), random_state=seed, n_jobs=1)
        return np.asarray(reducer.fit_transform(x))
