"""2-D maps of tracks: every registered method gives finite points, the same for a seed, and keeps
clusters apart."""

from __future__ import annotations

import numpy as np
import pytest

from sonicprint.evaluation import MAPS, embedding_map
from sonicprint.registry import UnknownNameError


@pytest.mark.parametrize("method", MAPS.names())
def test_every_map_is_2d_finite_and_deterministic_for_a_seed(method, rng):
    x = rng.normal(size=(30, 8))
    a = embedding_map(x, method=method, seed=0)
    assert a.shape == (30, 2) and a.dtype.kind == "f" and np.all(np.isfinite(a))
    np.testing.assert_allclose(a, embedding_map(x, method=method, seed=0), atol=1e-6)


@pytest.mark.parametrize("method", MAPS.names())
def test_every_map_keeps_two_far_clusters_apart(method, rng):
    x = np.concatenate([rng.normal(size=(15, 6)), rng.normal(size=(15, 6)) + 40.0])
    points = embedding_map(x, method=method, seed=1)
    a, b = points[:15], points[15:]
    # every point is nearer its own cluster's centre than the other's
    own = np.linalg.norm(a - a.mean(0), axis=1).max(), np.linalg.norm(b - b.mean(0), axis=1).max()
    assert np.linalg.norm(a.mean(0) - b.mean(0)) > max(own)


@pytest.mark.parametrize("method", MAPS.names())
def test_too_few_points_or_an_unknown_method_is_refused(method, rng):
    x = rng.normal(size=(3, 4))
    with pytest.raises(ValueError, match=f"a {method} map needs at least 4 points, got 3"):
        embedding_map(x, method=method)
    known = ", ".join(sorted(MAPS.names()))
    with pytest.raises(UnknownNameError, match=f"unknown map method 'pca'; known: {known}"):
        embedding_map(rng.normal(size=(10, 4)), method="pca")
