from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sonicprint.models import cosine_similarity

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@given(arrays(np.float64, (5, 4), elements=finite), st.floats(0.01, 100.0))
def test_cosine_is_bounded_and_ignores_scale(candidates, scale):
    query = candidates[0]
    similarity = cosine_similarity(query, candidates)
    assert similarity.shape == (5,)
    assert np.all(np.abs(similarity) <= 1 + 1e-9)
    np.testing.assert_allclose(cosine_similarity(scale * query, candidates), similarity, atol=1e-9)
    if np.linalg.norm(query) > 1e-6:
        assert np.isclose(similarity[0], 1.0)


def test_orthogonal_opposite_and_zero_vectors():
    query = np.array([1.0, 0.0])
    candidates = np.array([[0.0, 2.0], [-3.0, 0.0], [0.0, 0.0], [5.0, 0.0]])
    np.testing.assert_allclose(cosine_similarity(query, candidates), [0.0, -1.0, 0.0, 1.0])
    assert cosine_similarity(query, np.zeros((0, 2))).shape == (0,)
