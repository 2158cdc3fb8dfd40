"""Temperature scaling: one number that makes a classifier's probabilities say how often it is right.

Shrinkage LDA and fused models are overconfident (a track given 0.95 is right far less often than 95% of
the time). Dividing the log-probabilities by a temperature ``T > 1`` fitted on held-out predictions
(Guo et al. 2017, "On Calibration of Modern Neural Networks") softens them without changing which label
wins, so accuracy stays as it is and an "unknown" threshold means what it says.
"""

from __future__ import annotations

import numpy as np

#: the range a fitted temperature is searched in
TEMPERATURE_BOUNDS = (0.05, 20.0)


def apply_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities with their logarithms divided by ``temperature``, renormalised.

    Parameters
    ----------
    probabilities : np.ndarray, shape=(..., n_classes)
        Each row sums to 1; zeros stay zero.
    temperature : float > 0
        Above 1 softens, below 1 sharpens, 1 changes nothing.

    Returns
    -------
    np.ndarray, shape=(..., n_classes), float64
        Rows sum to 1; the largest entry of each row stays the largest.

    Raises
    ------
    ValueError
        When ``temperature`` is not a positive finite number.
    """
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    p = np.asarray(probabilities, dtype=np.float64)
    with np.errstate(divide="ignore"):
        logits = np.log(p) / temperature
    logits -= logits.max(axis=-1, keepdims=True)
    scaled = np.exp(logits)
    return scaled / scaled.sum(axis=-1, keepdims=True)


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray, *, prior_width: float = 1.0) -> float:
    """The temperature that minimises the negative log-likelihood of ``labels`` under
    :func:`apply_temperature` of ``probabilities``, with a weak normal prior on its logarithm.

    The prior (mean 0, standard deviation ``prior_width``) keeps the temperature near 1 when the
    predictions say little about it: a few tracks, or tracks all named right with near certainty, for which
    the likelihood alone would sharpen without limit. With a hundred tracks of real music it moves the
    temperature by a few hundredths at most.

    Parameters
    ----------
    probabilities : np.ndarray, shape=(n, n_classes)
        Held-out predictions (never of the tracks the model was trained on, or the fit learns the
        training fit's overconfidence instead of the model's).
    labels : np.ndarray, shape=(n,)
        The true class index of each row.

    Returns
    -------
    float
        In :data:`TEMPERATURE_BOUNDS`; 1.0 when there are no rows.
    """
    from scipy.optimize import minimize_scalar

    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    if p.ndim != 2 or len(p) != len(y):
        raise ValueError(f"{len(y)} labels for probabilities of shape {p.shape}")
    if not len(y):
        return 1.0
    floor = np.finfo(np.float64).tiny

    def loss(log_t: float) -> float:
        chosen = apply_temperature(p, float(np.exp(log_t)))[np.arange(len(y)), y]
        return float(-np.sum(np.log(np.maximum(chosen, floor))) + 0.5 * (log_t / prior_width) ** 2)

    low, high = np.log(TEMPERATURE_BOUNDS)
    return float(np.exp(minimize_scalar(loss, bounds=(low, high), method="bounded").x))


def out_of_fold_temperatures(
    probabilities: np.ndarray, truth: np.ndarray, part_of: np.ndarray, usable: np.ndarray
) -> dict[str, float]:
    """For each part of a cross-validation, a temperature fitted on the ``usable`` tracks of the other parts.

    Parameters
    ----------
    probabilities : np.ndarray, shape=(n_tracks, n_classes)
        Each track's probabilities from the model of the part that held it out.
    truth : np.ndarray, shape=(n_tracks,)
        Each track's label index.
    part_of : np.ndarray, shape=(n_tracks,)
        The part (fold, ``val`` or ``test``) that predicted each track; ``""`` for none.
    usable : np.ndarray, shape=(n_tracks,), bool
        Tracks to fit on: predicted by a model that had their label and never saw them.

    Returns
    -------
    dict
        part -> temperature. The other parts' tracks were held out from their models as this part's were
        from its own, so the part's scaled probabilities are still held-out figures.
    """
    return {
        part: fit_temperature(probabilities[usable & (part_of != part)], truth[usable & (part_of != part)])
        for part in sorted(set(part_of.tolist()) - {""})
    }


def calibrate_out_of_fold(
    probabilities: np.ndarray, truth: np.ndarray, part_of: np.ndarray, usable: np.ndarray
) -> tuple[np.ndarray, float]:
    """Each part's probabilities scaled by its :func:`out_of_fold_temperatures` (rows of no part as they
    are), and the temperature fitted on every usable track, for a model trained on all of them."""
    calibrated = np.array(probabilities, dtype=np.float64, copy=True)
    for part, temperature in out_of_fold_temperatures(probabilities, truth, part_of, usable).items():
        rows = part_of == part
        calibrated[rows] = apply_temperature(probabilities[rows], temperature)
    return calibrated, fit_temperature(probabilities[usable], truth[usable])
