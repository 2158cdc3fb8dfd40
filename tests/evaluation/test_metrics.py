from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import precision_recall_fscore_support

from sonicprint.evaluation import (
    UNKNOWN_THRESHOLDS,
    accuracy,
    answered_accuracy,
    background_summary,
    brier_score,
    chance_level,
    confusion,
    evaluate,
    expected_calibration_error,
    one_vs_all,
    precision_recall_f1,
    reliability,
    top_k_accuracy,
    unknown_share,
    validate,
)

LABELS = ["a", "b", "c", "d"]
REF = ["a", "a", "b", "b", "b", "c", "c", "a", "b", "c"]
EST = ["a", "b", "b", "b", "c", "c", "a", "a", "b", "b"]


@pytest.mark.parametrize("average", ["macro", "weighted", "micro"])
def test_prf_agrees_with_scikit_learn(average):
    present = sorted(set(REF))
    ref = precision_recall_fscore_support(REF, EST, labels=present, average=average, zero_division=0)
    ours = precision_recall_f1(REF, EST, LABELS, average=average)
    np.testing.assert_allclose(ours, ref[:3])


def test_accuracy_confusion_and_one_vs_all():
    assert accuracy(REF, EST) == pytest.approx(0.6)
    matrix = confusion(REF, EST, LABELS)
    assert matrix.sum() == len(REF) and np.trace(matrix) == 6
    assert matrix[LABELS.index("c"), LABELS.index("a")] == 1
    rows = {r["label"]: r for r in one_vs_all(REF, EST, LABELS)}
    assert rows["a"]["recall"] == pytest.approx(2 / 3)
    assert rows["d"]["support"] == 0 and rows["d"]["accuracy"] == 1.0


def test_chance_and_top_k():
    assert chance_level(REF, LABELS) == {"uniform": 0.25, "majority": 0.4}
    proba = np.eye(4)[[LABELS.index(e) for e in EST]] + 0.1 * np.eye(4)[[LABELS.index(r) for r in REF]]
    assert top_k_accuracy(REF, proba, LABELS, k=1) == pytest.approx(0.6)
    assert top_k_accuracy(REF, proba, LABELS, k=2) == pytest.approx(1.0)


def test_evaluate_bundles_everything():
    out = evaluate(REF, EST, LABELS)
    assert {"accuracy", "macro", "weighted", "micro", "chance", "per_label", "confusion", "labels"} <= set(
        out
    )
    assert "unknown_below" not in out  # needs probabilities
    proba = np.eye(4)[[LABELS.index(e) for e in EST]]
    with_proba = evaluate(REF, EST, LABELS, probabilities=proba)
    assert [r["threshold"] for r in with_proba["unknown_below"]] == list(UNKNOWN_THRESHOLDS)
    assert with_proba["unknown_below"][0] == {"threshold": 0.5, "answered": 1.0, "accuracy": 0.6}


def test_answered_accuracy_trades_tracks_answered_for_accuracy():
    reference = ["a", "b", "c", "a"]
    proba = np.array(
        [
            [0.95, 0.05, 0.0, 0.0],  # right, sure
            [0.6, 0.4, 0.0, 0.0],  # wrong, unsure
            [0.1, 0.1, 0.8, 0.0],  # right, fairly sure
            [0.3, 0.7, 0.0, 0.0],  # wrong, unsure
        ]
    )
    rows = answered_accuracy(reference, proba, LABELS, thresholds=(0.0, 0.65, 0.9, 0.99))
    assert rows == [
        {"threshold": 0.0, "answered": 1.0, "accuracy": 0.5},
        {"threshold": 0.65, "answered": 0.75, "accuracy": pytest.approx(2 / 3)},
        {"threshold": 0.9, "answered": 0.25, "accuracy": 1.0},
        {"threshold": 0.99, "answered": 0.0, "accuracy": None},
    ]
    assert unknown_share(proba, thresholds=(0.0, 0.65, 0.9, 0.99)) == [0.0, 0.25, 0.75, 1.0]
    with pytest.raises(ValueError, match="probabilities shape"):
        answered_accuracy(reference, proba[:3], LABELS)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 40))
def test_probability_metrics_hold_their_invariants(seed, n):
    """The answered share falls as the threshold rises; calibration stays in range, 0 when sure and right."""
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet(np.ones(len(LABELS)), size=n)
    reference = list(rng.choice(LABELS, size=n))
    rows = answered_accuracy(reference, proba, LABELS)
    answered = [r["answered"] for r in rows]
    assert answered == sorted(answered, reverse=True)
    assert np.allclose(np.add(answered, unknown_share(proba)), 1.0)
    bins = reliability(reference, proba, LABELS)
    assert sum(b["n"] for b in bins) == n
    assert all(b["low"] <= b["confidence"] <= b["high"] for b in bins)
    assert 0.0 <= expected_calibration_error(reference, proba, LABELS) <= 1.0
    assert 0.0 <= brier_score(reference, proba, LABELS) <= 2.0
    one_hot_right = np.eye(len(LABELS))[[LABELS.index(r) for r in reference]]
    assert expected_calibration_error(reference, one_hot_right, LABELS) == 0.0
    assert brier_score(reference, one_hot_right, LABELS) == 0.0


@pytest.mark.parametrize(
    ("ref", "est", "labels", "message"),
    [
        (["a"], ["a", "b"], LABELS, "reference has 1 items"),
        ([], [], LABELS, "empty"),
        (["a"], ["z"], LABELS, "not in the label set"),
        (["a"], ["a"], ["a", "a"], "unique"),
    ],
)
def test_validate_rejects_bad_input(ref, est, labels, message):
    with pytest.raises(ValueError, match=message):
        validate(ref, est, labels)


def test_reliability_bins_confidence_against_accuracy():
    reference = ["a", "b", "c", "a", "a"]
    proba = np.array(
        [
            [0.95, 0.05, 0.0, 0.0],  # right, in [0.9, 1]
            [1.0, 0.0, 0.0, 0.0],  # wrong, exactly 1: the last bin
            [0.1, 0.1, 0.8, 0.0],  # right, in [0.8, 0.9)
            [0.35, 0.3, 0.3, 0.05],  # right, in [0.3, 0.4)
            [0.3, 0.4, 0.3, 0.0],  # wrong, in [0.4, 0.5)
        ]
    )
    rows = reliability(reference, proba, LABELS)
    assert [(r["low"], r["n"]) for r in rows] == [
        (pytest.approx(0.3), 1),
        (pytest.approx(0.4), 1),
        (pytest.approx(0.8), 1),
        (pytest.approx(0.9), 2),
    ]
    assert [r["accuracy"] for r in rows] == [1.0, 0.0, 1.0, 0.5]
    assert rows[-1]["confidence"] == pytest.approx(0.975)
    gaps = [0.65 * 1, 0.4 * 1, 0.2 * 1, 0.475 * 2]
    assert expected_calibration_error(reference, proba, LABELS) == pytest.approx(sum(gaps) / 5)
    # Brier: squared distances to one-hot truth, item by item
    expected = [
        0.05**2 * 2,
        2.0,
        0.1**2 * 2 + 0.2**2,
        0.65**2 + 0.3**2 * 2 + 0.05**2,
        0.7**2 + 0.4**2 + 0.3**2,
    ]
    assert brier_score(reference, proba, LABELS) == pytest.approx(np.mean(expected))
    with pytest.raises(ValueError, match="probabilities shape"):
        brier_score(reference, proba[:, :3], LABELS)


def test_a_calibrated_model_has_a_small_calibration_error():
    """Truth drawn from the model's own probabilities: confidence matches accuracy up to sampling noise;
    the same probabilities sharpened towards their best class are overconfident."""
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.full(len(LABELS), 0.7), size=20000)
    reference = [LABELS[rng.choice(len(LABELS), p=p)] for p in proba]
    assert expected_calibration_error(reference, proba, LABELS) < 0.02
    sharp = proba**4 / (proba**4).sum(axis=1, keepdims=True)
    assert expected_calibration_error(reference, sharp, LABELS) > 0.1
    assert brier_score(reference, sharp, LABELS) > brier_score(reference, proba, LABELS)


def test_background_summary_separates_makers_from_others():
    labels = ["a", "b", "other"]
    reference = ["a", "a", "b", "other", "other", "other"]
    guesses = ["a", "other", "a", "other", "other", "b"]
    proba = np.array([[0.9 if g == lab else 0.05 for lab in labels] for g in guesses])
    summary = background_summary(reference, proba, labels, background="other")
    assert summary == {
        "background": "other",
        "known_tracks": 3,
        "background_tracks": 3,
        "known_answered": pytest.approx(2 / 3),  # one of a's tracks was taken for someone else's
        "known_accuracy_on_answered": 0.5,  # of the two given a maker, one got the right one
        "background_turned_away": pytest.approx(2 / 3),
    }
    with pytest.raises(ValueError, match="background label 'none' is not in the label set"):
        background_summary(reference, proba, labels, background="none")
