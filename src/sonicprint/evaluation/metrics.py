"""Classification metrics, in the manner of mir_eval: ``validate``, metric functions, ``evaluate``.

Inputs are sequences of label strings: ``reference`` (truth) and ``estimate`` (prediction), plus the full
label set so that classes never predicted still count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def validate(reference: Sequence[str], estimate: Sequence[str], labels: Sequence[str]) -> None:
    """Raise ValueError unless both sequences are equally long, non-empty and drawn from ``labels``."""
    if len(reference) != len(estimate):
        raise ValueError(f"reference has {len(reference)} items, estimate {len(estimate)}")
    if len(reference) == 0:
        raise ValueError("nothing to evaluate: empty reference")
    if len(set(labels)) != len(labels):
        raise ValueError("labels must be unique")
    known = set(labels)
    unknown = (set(reference) | set(estimate)) - known
    if unknown:
        raise ValueError(f"labels not in the label set: {sorted(unknown)[:5]}")


def accuracy(reference: Sequence[str], estimate: Sequence[str]) -> float:
    return float(np.mean([r == e for r, e in zip(reference, estimate)]))


def confusion(reference: Sequence[str], estimate: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """Counts ``(n_labels, n_labels)``: row = true label, column = predicted label."""
    index = {lab: i for i, lab in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for r, e in zip(reference, estimate):
        matrix[index[r], index[e]] += 1
    return matrix


def _per_class(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    tp = np.diag(matrix).astype(float)
    predicted = matrix.sum(axis=0).astype(float)
    support = matrix.sum(axis=1).astype(float)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return precision, recall, f1, support


def precision_recall_f1(
    reference: Sequence[str], estimate: Sequence[str], labels: Sequence[str], *, average: str = "macro"
) -> tuple[float, float, float]:
    """Precision, recall and F1 averaged ``macro`` (over labels with support), ``weighted`` or ``micro``."""
    matrix = confusion(reference, estimate, labels)
    precision, recall, f1, support = _per_class(matrix)
    if average == "micro":
        value = float(np.trace(matrix) / matrix.sum())
        return value, value, value
    present = support > 0
    if average == "macro":
        return (float(precision[present].mean()), float(recall[present].mean()), float(f1[present].mean()))
    if average == "weighted":
        w = support / support.sum()
        return float(precision @ w), float(recall @ w), float(f1 @ w)
    raise ValueError(f"average must be 'macro', 'weighted' or 'micro', got {average!r}")


def one_vs_all(
    reference: Sequence[str], estimate: Sequence[str], labels: Sequence[str]
) -> list[dict[str, Any]]:
    """Per label: one-vs-all accuracy, precision, recall, F1 and support."""
    matrix = confusion(reference, estimate, labels)
    precision, recall, f1, support = _per_class(matrix)
    total = matrix.sum()
    rows = []
    for i, lab in enumerate(labels):
        tp = matrix[i, i]
        fp = matrix[:, i].sum() - tp
        fn = matrix[i, :].sum() - tp
        rows.append(
            {
                "label": lab,
                "accuracy": float((total - fp - fn) / total),
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
        )
    return rows


def chance_level(reference: Sequence[str], labels: Sequence[str]) -> dict[str, float]:
    """Accuracy of guessing: uniformly at random, and always the most frequent label."""
    counts = np.array([sum(1 for r in reference if r == lab) for lab in labels], dtype=float)
    return {"uniform": 1.0 / len(labels), "majority": float(counts.max() / counts.sum())}


def top_k_accuracy(
    reference: Sequence[str], probabilities: np.ndarray, labels: Sequence[str], *, k: int
) -> float:
    """Share of items whose true label is among the ``k`` most probable."""
    index = {lab: i for i, lab in enumerate(labels)}
    top = np.argsort(-probabilities, axis=1)[:, :k]
    return float(np.mean([index[r] in row for r, row in zip(reference, top)]))


def _probability_rows(
    reference: Sequence[str], probabilities: np.ndarray, labels: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """``probabilities`` as floats, checked against ``reference`` and ``labels``; each item's true column."""
    probabilities = np.asarray(probabilities, dtype=float)
    if probabilities.shape != (len(reference), len(labels)):
        raise ValueError(
            f"probabilities shape {probabilities.shape}, expected {(len(reference), len(labels))}"
        )
    index = {lab: i for i, lab in enumerate(labels)}
    return probabilities, np.array([index[r] for r in reference], dtype=int)


#: the ``unknown_below`` thresholds a report tabulates
UNKNOWN_THRESHOLDS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99)


def answered_accuracy(
    reference: Sequence[str],
    probabilities: np.ndarray,
    labels: Sequence[str],
    *,
    thresholds: Sequence[float] = UNKNOWN_THRESHOLDS,
) -> list[dict[str, Any]]:
    """What an "unknown" answer below each threshold trades: the share of items still answered (best
    probability at or above the threshold) and the accuracy on those.

    Parameters
    ----------
    reference : sequence of str, length n
    probabilities : np.ndarray, shape=(n, len(labels))
    labels : sequence of str
    thresholds : sequence of float

    Returns
    -------
    list of dict
        Per threshold: ``threshold``, ``answered`` (share in [0, 1]) and ``accuracy`` on the answered
        items (None when none is answered).
    """
    probabilities, truth = _probability_rows(reference, probabilities, labels)
    correct = probabilities.argmax(axis=1) == truth
    best = probabilities.max(axis=1)
    rows = []
    for threshold in thresholds:
        answered = best >= threshold
        rows.append(
            {
                "threshold": float(threshold),
                "answered": float(answered.mean()),
                "accuracy": float(correct[answered].mean()) if answered.any() else None,
            }
        )
    return rows


def unknown_share(
    probabilities: np.ndarray, *, thresholds: Sequence[float] = UNKNOWN_THRESHOLDS
) -> list[float]:
    """Per threshold, the share of items whose best probability falls below it (answered "unknown");
    for items of makers the model never heard, the higher the better. ``probabilities``: ``(n, n_labels)``."""
    best = np.asarray(probabilities, dtype=float).max(axis=1)
    return [float(np.mean(best < t)) for t in thresholds]


def background_summary(
    reference: Sequence[str], probabilities: np.ndarray, labels: Sequence[str], *, background: str
) -> dict[str, Any]:
    """How a model with a ``background`` class (tracks by none of the makers) splits makers from others.

    Parameters
    ----------
    reference : sequence of str, length n
    probabilities : np.ndarray, shape=(n, len(labels))
    labels : sequence of str
        The label set, ``background`` among them.
    background : str

    Returns
    -------
    dict
        ``known_tracks`` and ``background_tracks`` (counts); ``known_answered``: share of makers' tracks
        given a maker rather than the background; ``known_accuracy_on_answered``: the share of those given
        the right maker (None when none); ``background_turned_away``: share of background tracks given the
        background (answered "unknown").
    """
    if background not in labels:
        raise ValueError(f"background label {background!r} is not in the label set")
    probabilities, truth = _probability_rows(reference, probabilities, labels)
    guess = probabilities.argmax(axis=1)
    other = list(labels).index(background)
    known = truth != other
    answered = known & (guess != other)
    return {
        "background": background,
        "known_tracks": int(known.sum()),
        "background_tracks": int((~known).sum()),
        "known_answered": float(answered.sum() / known.sum()) if known.any() else None,
        "known_accuracy_on_answered": float(np.mean(guess[answered] == truth[answered]))
        if answered.any()
        else None,
        "background_turned_away": float(np.mean(guess[~known] == other)) if (~known).any() else None,
    }


def reliability(
    reference: Sequence[str], probabilities: np.ndarray, labels: Sequence[str], *, n_bins: int = 10
) -> list[dict[str, Any]]:
    """Confidence against accuracy: items binned by their best probability into ``n_bins`` equal-width bins.

    Parameters
    ----------
    reference : sequence of str, length n
    probabilities : np.ndarray, shape=(n, len(labels))
    labels : sequence of str
    n_bins : int

    Returns
    -------
    list of dict
        One per non-empty bin, in order: ``low`` and ``high`` (the bin's edges), ``n`` (items),
        ``confidence`` (their mean best probability) and ``accuracy`` (share of them predicted right).
    """
    probabilities, truth = _probability_rows(reference, probabilities, labels)
    best = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == truth
    edges = np.round(np.linspace(0.0, 1.0, n_bins + 1), 12)  # 0.6, not 0.6000000000000001
    # a best probability of exactly 1 belongs to the last bin, every other value to [low, high)
    which = np.minimum(np.searchsorted(edges, best, side="right") - 1, n_bins - 1)
    rows = []
    for b in range(n_bins):
        members = which == b
        if members.any():
            rows.append(
                {
                    "low": float(edges[b]),
                    "high": float(edges[b + 1]),
                    "n": int(members.sum()),
                    "confidence": float(best[members].mean()),
                    "accuracy": float(correct[members].mean()),
                }
            )
    return rows


def expected_calibration_error(
    reference: Sequence[str], probabilities: np.ndarray, labels: Sequence[str], *, n_bins: int = 10
) -> float:
    """Mean gap between confidence and accuracy over the :func:`reliability` bins, weighted by their items:
    0 when a model right 80% of the time says 0.8, up to 1."""
    rows = reliability(reference, probabilities, labels, n_bins=n_bins)
    n = sum(r["n"] for r in rows)
    return float(sum(r["n"] * abs(r["confidence"] - r["accuracy"]) for r in rows) / n)


def brier_score(reference: Sequence[str], probabilities: np.ndarray, labels: Sequence[str]) -> float:
    """Mean squared distance between each item's probabilities and its one-hot truth, in [0, 2]; lower is
    better, and only a model both right and honest about its doubt scores low."""
    probabilities, truth = _probability_rows(reference, probabilities, labels)
    one_hot = np.zeros_like(probabilities)
    one_hot[np.arange(len(truth)), truth] = 1.0
    return float(np.mean(np.sum((probabilities - one_hot) ** 2, axis=1)))


def evaluate(
    reference: Sequence[str],
    estimate: Sequence[str],
    labels: Sequence[str],
    *,
    probabilities: np.ndarray | None = None,
) -> dict[str, Any]:
    """All metrics in one dict: accuracy, P/R/F1 (macro, weighted, micro), one-vs-all, chance, confusion;
    with ``probabilities`` ``(n, n_labels)`` also top-3 accuracy, :func:`answered_accuracy` and calibration
    (:func:`expected_calibration_error`, :func:`brier_score`, :func:`reliability`)."""
    validate(reference, estimate, labels)
    out: dict[str, Any] = {"n": len(reference), "accuracy": accuracy(reference, estimate)}
    for average in ("macro", "weighted", "micro"):
        p, r, f = precision_recall_f1(reference, estimate, labels, average=average)
        out[average] = {"precision": p, "recall": r, "f1": f}
    out["chance"] = chance_level(reference, labels)
    out["per_label"] = one_vs_all(reference, estimate, labels)
    out["confusion"] = confusion(reference, estimate, labels).tolist()
    out["labels"] = list(labels)
    if probabilities is not None:
        out["unknown_below"] = answered_accuracy(reference, probabilities, labels)
        out["calibration"] = {
            "ece": expected_calibration_error(reference, probabilities, labels),
            "brier": brier_score(reference, probabilities, labels),
            "reliability": reliability(reference, probabilities, labels),
        }
        if len(labels) > 2:
            out["top_3_accuracy"] = top_k_accuracy(reference, probabilities, labels, k=3)
    return out
