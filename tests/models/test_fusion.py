"""Late fusion of track probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sonicprint.errors import ConfigError
from sonicprint.models import fuse_probabilities


def _random_probabilities(rng: np.random.Generator, n: int = 5, k: int = 4) -> np.ndarray:
    p = rng.random((n, k)) + 0.01
    return p / p.sum(axis=1, keepdims=True)


def test_one_model_comes_back_unchanged_and_rows_sum_to_one():
    p = _random_probabilities(np.random.default_rng(0))
    np.testing.assert_allclose(fuse_probabilities([p]), p)
    fused = fuse_probabilities([p, _random_probabilities(np.random.default_rng(1))])
    np.testing.assert_allclose(fused.sum(axis=1), 1.0)


def test_fusion_is_the_normalised_geometric_mean():
    a = np.array([[0.8, 0.2], [0.5, 0.5]])
    b = np.array([[0.2, 0.8], [0.9, 0.1]])
    expected = np.sqrt(a * b)
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(fuse_probabilities([a, b]), expected)
    # a zero weight drops a model
    np.testing.assert_allclose(fuse_probabilities([a, b], weights=[1.0, 0.0]), a)


def test_a_zero_probability_does_not_veto_a_class():
    confident = np.array([[1.0, 0.0]])
    others = np.array([[0.01, 0.99]])
    assert np.isfinite(fuse_probabilities([confident, others])).all()
    fused = fuse_probabilities([confident, *[others] * 4])
    assert fused[0, 1] > fused[0, 0]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 4))
def test_fusion_of_copies_is_the_model_itself(seed, copies):
    p = _random_probabilities(np.random.default_rng(seed))
    np.testing.assert_allclose(fuse_probabilities([p] * copies), p, rtol=1e-9)


@pytest.mark.parametrize(
    ("probabilities", "weights", "match"),
    [
        ([], None, "no model"),
        ([np.ones((2, 3)) / 3, np.ones((2, 4)) / 4], None, "same"),
        ([np.ones((2, 3)) / 3], [1.0, 1.0], "one non-negative weight"),
        ([np.ones((2, 3)) / 3], [-1.0], "one non-negative weight"),
    ],
)
def test_bad_inputs_are_named(probabilities, weights, match):
    with pytest.raises(ConfigError, match=match):
        fuse_probabilities(probabilities, weights=weights)
