"""Is one model better than another on the same tracks? Paired comparison of two sets of verdicts.

mir_eval style: :func:`validate`, metric functions, :func:`evaluate` returning a dict. Both models must
have judged the same tracks, each held out from the model that judged it (two experiments' out-of-fold
predictions), so every track gives one paired observation: right or wrong under each model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def validate(reference: Sequence[str], estimate_a: Sequence[str], estimate_b: Sequence[str]) -> None:
    """Raise ValueError unless the three sequences are equally long and not empty."""
    if not len(reference) == len(estimate_a) == len(estimate_b):
        raise ValueError(
            f"reference has {len(reference)} items, estimates {len(estimate_a)} and {len(estimate_b)}"
        )
    if not len(reference):
        raise ValueError("nothing to compare: no track judged by both models")


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value: how likely a split of the discordant tracks at least this uneven
    is when both models are equally good (each discordant track a fair coin).

    Parameters
    ----------
    only_a, only_b : int
        Tracks only model A got right, and only model B.

    Returns
    -------
    float
        In (0, 1]; 1.0 when no track is discordant.
    """
    from scipy.stats import binomtest

    n = only_a + only_b
    return 1.0 if n == 0 else float(binomtest(min(only_a, only_b), n, 0.5).pvalue)


def bootstrap_difference(
    correct_a: np.ndarray,
    correct_b: np.ndarray,
    *,
    rng: np.random.Generator,
    n_resamples: int = 10000,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of accuracy(A) - accuracy(B), resampling tracks with their pair.

    Parameters
    ----------
    correct_a, correct_b : np.ndarray, shape=(n,), bool
        Whether each model got each track right.
    rng : np.random.Generator
    n_resamples : int
    level : float
        Coverage of the interval.

    Returns
    -------
    (low, high) : tuple of float
    """
    difference = np.asarray(correct_a, dtype=float) - np.asarray(correct_b, dtype=float)
    picks = rng.integers(0, len(difference), size=(n_resamples, len(difference)))
    means = difference[picks].mean(axis=1)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


def evaluate(
    reference: Sequence[str],
    estimate_a: Sequence[str],
    estimate_b: Sequence[str],
    *,
    rng: np.random.Generator,
    n_resamples: int = 10000,
) -> dict[str, Any]:
    """Accuracy of each model, their difference with a 95% bootstrap interval, the discordant tracks and
    the exact McNemar p-value.

    Returns
    -------
    dict
        ``n``, ``accuracy_a``, ``accuracy_b``, ``difference`` (A - B), ``interval`` ([low, high]),
        ``only_a_right``, ``only_b_right``, ``mcnemar_p``.
    """
    validate(reference, estimate_a, estimate_b)
    truth = np.asarray(reference, dtype=object)
    correct_a = np.asarray(estimate_a, dtype=object) == truth
    correct_b = np.asarray(estimate_b, dtype=object) == truth
    only_a, only_b = int(np.sum(correct_a & ~correct_b)), int(np.sum(correct_b & ~correct_a))
    low, high = bootstrap_difference(correct_a, correct_b, rng=rng, n_resamples=n_resamples)
    return {
        "n": len(truth),
        "accuracy_a": float(correct_a.mean()),
        "accuracy_b": float(correct_b.mean()),
        "difference": float(correct_a.mean() - correct_b.mean()),
        "interval": [low, high],
        "only_a_right": only_a,
        "only_b_right": only_b,
        "mcnemar_p": mcnemar_exact(only_a, only_b),
    }
