from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sonicprint.models import apply_temperature, calibrate_out_of_fold, fit_temperature


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, (7, 4), elements=st.floats(1e-6, 1.0)),
    st.floats(0.1, 10.0),
)
def test_temperature_keeps_rows_normalised_and_the_winner(raw, temperature):
    probabilities = raw / raw.sum(axis=1, keepdims=True)
    scaled = apply_temperature(probabilities, temperature)
    np.testing.assert_allclose(scaled.sum(axis=1), 1.0)
    best = probabilities.max(axis=1, keepdims=True)
    assert np.all(scaled[np.arange(7), probabilities.argmax(axis=1)] >= scaled.max(axis=1) - 1e-12)
    if temperature > 1:  # softer: the winner's share never grows
        assert np.all(scaled.max(axis=1) <= best[:, 0] + 1e-12)


def test_temperature_one_changes_nothing_and_zeros_stay_zero():
    p = np.array([[0.7, 0.3, 0.0], [0.2, 0.5, 0.3]])
    np.testing.assert_allclose(apply_temperature(p, 1.0), p)
    assert apply_temperature(p, 3.0)[0, 2] == 0.0
    with pytest.raises(ValueError, match="temperature must be a positive number"):
        apply_temperature(p, 0.0)


@pytest.mark.parametrize("true_temperature", [2.0, 0.5])
def test_fitting_recovers_the_temperature_of_over_and_underconfident_predictions(rng, true_temperature):
    logits = rng.normal(0, 2.0, (6000, 5))
    labels = np.array([rng.choice(5, p=row) for row in _softmax(logits)])  # calibrated by construction
    miscalibrated = _softmax(logits * true_temperature)  # T > 1: overconfident; dividing by T undoes it
    fitted = fit_temperature(miscalibrated, labels)
    assert fitted == pytest.approx(true_temperature, rel=0.1)
    assert fit_temperature(_softmax(logits), labels) == pytest.approx(1.0, rel=0.1)


def test_fitting_checks_its_input():
    with pytest.raises(ValueError, match="3 labels for probabilities of shape"):
        fit_temperature(np.full((2, 2), 0.5), np.array([0, 1, 1]))
    assert fit_temperature(np.zeros((0, 3)), np.zeros(0, dtype=int)) == 1.0


def test_a_few_certain_and_right_predictions_leave_the_temperature_near_one():
    # the likelihood alone would sharpen these without limit; the prior keeps the temperature near 1
    probabilities = np.tile([0.999, 0.0005, 0.0005], (10, 1))
    assert 0.9 < fit_temperature(probabilities, np.zeros(10, dtype=int)) <= 1.0  # not the 0.05 bound


def test_each_part_is_calibrated_by_the_other_parts_held_out_tracks(rng):
    logits = rng.normal(0, 3, (30, 4))
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    truth = rng.integers(0, 4, 30)
    part_of = np.array(["0", "1", "2", ""] * 7 + ["0", "1"], dtype=object)  # "": never predicted
    usable = part_of != ""
    usable[:4] = False  # e.g. tracks of a label no model heard: not fitted on
    calibrated, temperature = calibrate_out_of_fold(probabilities, truth, part_of, usable)
    for part in ("0", "1", "2"):
        rows, others = part_of == part, usable & (part_of != part)
        expected = apply_temperature(
            probabilities[rows], fit_temperature(probabilities[others], truth[others])
        )
        np.testing.assert_allclose(calibrated[rows], expected)
    np.testing.assert_array_equal(calibrated[part_of == ""], probabilities[part_of == ""])
    assert temperature == fit_temperature(probabilities[usable], truth[usable])
