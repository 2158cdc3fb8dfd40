from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sonicprint.evaluation.compare import bootstrap_difference, evaluate, mcnemar_exact, validate


def test_validate_names_the_mismatch():
    with pytest.raises(ValueError, match="reference has 2 items, estimates 2 and 1"):
        validate(["a", "b"], ["a", "b"], ["a"])
    with pytest.raises(ValueError, match="no track judged by both models"):
        validate([], [], [])


def test_mcnemar_is_the_two_sided_binomial_test_of_the_discordant_tracks():
    assert mcnemar_exact(8, 2) == pytest.approx(2 * (1 + 10 + 45) / 2**10)  # P(X <= 2) twice, n = 10
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(5, 5) == 1.0
    assert mcnemar_exact(20, 0) < 1e-5


def test_identical_verdicts_differ_by_nothing(rng):
    correct = rng.random(50) < 0.7
    assert bootstrap_difference(correct, correct, rng=rng, n_resamples=200) == (0.0, 0.0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=60), st.integers(0, 2**16))
def test_swapping_the_models_mirrors_the_result(pairs, seed):
    reference = ["x"] * len(pairs)
    a = ["x" if right else "y" for right, _ in pairs]
    b = ["x" if right else "y" for _, right in pairs]
    ab = evaluate(reference, a, b, rng=np.random.default_rng(seed), n_resamples=300)
    ba = evaluate(reference, b, a, rng=np.random.default_rng(seed), n_resamples=300)
    assert ab["difference"] == pytest.approx(-ba["difference"])
    assert (ab["only_a_right"], ab["only_b_right"]) == (ba["only_b_right"], ba["only_a_right"])
    assert ab["mcnemar_p"] == ba["mcnemar_p"]
    low, high = ab["interval"]
    assert low - 1e-12 <= ab["difference"] <= high + 1e-12  # the estimate lies inside its interval
    assert ab["accuracy_a"] - ab["accuracy_b"] == pytest.approx(ab["difference"])
