from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sonicprint.models import cosine_similarity, maker_centroids

# entries far enough from the subnormal range that scaling the query by 0.01 cannot flush it to zero
finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False).filter(
    lambda v: v == 0 or abs(v) > 1e-250
)


@given(arrays(np.float64, (5, 4), elements=finite), st.floats(0.01, 100.0))
def test_cosine_is_bounded_and_ignores_scale(candidates, scale):
    query = candidates[0]
    similarity = cosine_similarity(query, candidates)
    assert similarity.shape == (5,)
    assert np.all(np.abs(similarity) <= 1 + 1e-9)
    np.testing.assert_allclose(cosine_similarity(scale * query, candidates), similarity, atol=1e-9)
    if np.linalg.norm(query) > 1e-6:
        assert np.isclose(similarity[0], 1.0)


def test_tiny_and_huge_vectors_do_not_underflow_or_overflow():
    for magnitude in (1e-154, 1e-200, 1e200):
        vectors = np.full((3, 4), magnitude) * [[1, 1, 1, 1], [1, 1, 1, 1], [1, -1, 1, -1]]
        np.testing.assert_allclose(cosine_similarity(0.5 * vectors[0], vectors), [1.0, 1.0, 0.0], atol=1e-12)


def test_orthogonal_opposite_and_zero_vectors():
    query = np.array([1.0, 0.0])
    candidates = np.array([[0.0, 2.0], [-3.0, 0.0], [0.0, 0.0], [5.0, 0.0]])
    np.testing.assert_allclose(cosine_similarity(query, candidates), [0.0, -1.0, 0.0, 1.0])
    assert cosine_similarity(query, np.zeros((0, 2))).shape == (0,)


def test_maker_centroids_average_unit_directions():
    embeddings = np.array([[3.0, 0.0], [0.0, 0.5], [10.0, 0.0], [0.0, 0.0]])
    centroids = maker_centroids(embeddings, ["a", "a", "b", "b"], ["b", "a"])
    assert centroids.dtype == np.float32 and centroids.shape == (2, 2)
    np.testing.assert_allclose(centroids, [[0.5, 0.0], [0.5, 0.5]])  # a zero vector points nowhere
    with pytest.raises(ValueError, match=r"no track of \['c'\]"):
        maker_centroids(embeddings, ["a", "a", "b", "b"], ["a", "c"])
    with pytest.raises(ValueError, match="3 labels for embeddings of shape"):
        maker_centroids(embeddings, ["a", "a", "b"], ["a"])
