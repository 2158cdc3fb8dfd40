"""Choosing among models without fooling oneself: nested cross-validation.

Run several models on the same folds, keep the best and quote its accuracy, and the figure is too high:
the folds that chose the model also scored it, and with few tracks per maker the luckiest candidate wins.
Here each part of the split (each outer fold) chooses by an inner cross-validation of its own training
tracks, grouped like the outer split, and the chosen model's verdicts on the part's held-out tracks are
scored. That is the accuracy of the choosing, which is what a user who picks the same way can expect;
beside it stand each candidate's own accuracy on the outer folds and the best of them, chosen afterwards.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from .config import ExperimentConfig, ModelConfig, SplitConfig
from .errors import ConfigError
from .evaluation import evaluated_mask, require_scored_tracks
from .experiment import cross_validate_windows, evaluation_splits, label_seen_mask, seeded_runs
from .part_store import PartStore
from .pipeline import FeatureTable


def model_description(model: ModelConfig) -> str:
    """A model config in one short line: ``lda (priors=uniform), late fusion``."""
    params = ", ".join(f"{key}={value}" for key, value in sorted(model.params.items()))
    text = f"{model.name} ({params})" if params else model.name
    return f"{text}, late fusion" if model.fusion == "late" else text


def _accuracy(probabilities: np.ndarray, truth: np.ndarray, scored: np.ndarray) -> float:
    return float(np.mean(probabilities[scored].argmax(1) == truth[scored]))


def inner_split(
    table: FeatureTable, config: ExperimentConfig, train: np.ndarray
) -> tuple[FeatureTable, ExperimentConfig, np.ndarray]:
    """The table of the ``train`` tracks alone, the config of its inner
    ``config.selection.inner_folds``-fold cross-validation (grouped by ``config.split.group``, seeded by
    ``config.split.seed``) and which of its tracks that cross-validation can score (their label on their
    inner training side).

    Raises
    ------
    ConfigError
        When the inner splits cannot be made or can score no track (each label's tracks in one group).
    """
    inner = table.take(train)
    inner_config = replace(
        config,
        split=SplitConfig(
            folds=config.selection.inner_folds, group=config.split.group, seed=config.split.seed
        ),
        learning_curve=(),
    )
    try:
        seen = label_seen_mask(inner, inner_config)
        require_scored_tracks(seen, config.split.group or "track")
    except ConfigError as exc:
        raise ConfigError(f"its training tracks cannot choose: {exc}") from None
    return inner, inner_config, seen


def inner_accuracy(
    table: FeatureTable,
    config: ExperimentConfig,
    train: np.ndarray,
    copies: Sequence[FeatureTable] = (),
    *,
    store: PartStore | None = None,
) -> float:
    """Track accuracy of ``config.model`` in the inner cross-validation of the ``train`` tracks
    (:func:`inner_split`), over the inner held-out tracks it can score. No other track is read, so a
    choice made on it knows nothing of the outer part's held-out tracks. ``store``: where the inner
    parts are kept (:func:`sonicprint.experiment.cross_validate_windows`)."""
    inner, inner_config, seen = inner_split(table, config, train)
    cv = cross_validate_windows(inner, inner_config, copies, store=store)
    scored = evaluated_mask(cv.part_of, holdout=False) & seen
    truth = np.array([cv.labels.index(lab) for lab in inner.labels])
    return _accuracy(cv.probabilities, truth, scored)


def nested_selection(
    table: FeatureTable,
    config: ExperimentConfig,
    copies: Sequence[FeatureTable] = (),
    *,
    progress: bool = False,
    store: PartStore | None = None,
    conditions: Mapping[str, FeatureTable] | None = None,
) -> dict[str, Any]:
    """Choose among ``config.model`` and ``config.selection.candidates`` part by part (the one with the
    best inner accuracy, :func:`inner_accuracy`; the earlier on a tie) and score the choices, over the
    run's split seeds.

    Returns the models (described), per split seed the accuracy of the choices and each part's pick, each
    candidate's own accuracy on the same outer folds, its mean inner accuracy and how often it was picked,
    and ``best_afterwards``: the candidate with the best mean outer accuracy, as a choice made after
    seeing every fold would report it (``optimism``: its accuracy less the choosing's). It is also what
    the same choosing picks with every track to learn from, so it is the model to keep, and the choosing's
    accuracy is what to expect of it. ``progress``: a bar on stderr over the cross-validations;
    ``store``: where every trained part is kept (:class:`sonicprint.part_store.PartStore`), from which an
    interrupted selection resumes. ``conditions``: the run's test-time conditions
    (:func:`sonicprint.experiment.cross_validate_windows`), scored by every model's outer parts as they
    are trained, so that the run's own cross-validation of the chosen model finds its parts kept instead
    of training them again.
    """
    from tqdm import tqdm

    models = (config.model, *config.selection.candidates)
    run_configs = seeded_runs(config)
    seeds = [c.split.seed for c in run_configs]
    truth = np.array([sorted(set(table.labels)).index(lab) for lab in table.labels])
    holdout = config.split.method == "holdout"
    splits = [evaluation_splits(table, run_config) for run_config in run_configs]
    n_parts = sum(len(parts) for parts in splits)
    for run_config, parts in zip(run_configs, splits):  # every part able to choose, before any training
        for number, train, _ in parts:
            try:
                inner_split(table, run_config, train)
            except ConfigError as exc:
                raise ConfigError(f"model selection, part {number}: {exc}") from None
    bar = tqdm(
        total=len(models) * (len(seeds) + n_parts),
        desc="choosing a model",
        unit="cv",
        disable=not progress,
        file=sys.stderr,
        leave=False,
    )
    chosen_accuracy: list[float] = []
    own_accuracy: list[list[float]] = [[] for _ in models]
    inner_scores: list[list[float]] = [[] for _ in models]
    picks: list[list[int]] = []
    for run_config, parts in zip(run_configs, splits):
        outer = []
        for model in models:
            cv = cross_validate_windows(
                table, replace(run_config, model=model), copies, store=store, conditions=conditions
            )
            outer.append(cv.probabilities)
            bar.update()
        part_of = np.full(len(truth), "", dtype=object)
        for number, _, evaluated in parts:
            part_of[evaluated] = number
        scored = evaluated_mask(part_of, holdout=holdout) & label_seen_mask(table, run_config)
        for k, probabilities in enumerate(outer):
            own_accuracy[k].append(_accuracy(probabilities, truth, scored))
        chosen = np.full_like(outer[0], np.nan)
        seed_picks = []
        for _, train, evaluated in parts:
            scores = []
            for k, model in enumerate(models):
                score = inner_accuracy(table, replace(run_config, model=model), train, copies, store=store)
                scores.append(score)
                inner_scores[k].append(score)
                bar.update()
            pick = int(np.argmax(scores))  # the first of equals: the run's own model wins a tie
            seed_picks.append(pick)
            chosen[evaluated] = outer[pick][evaluated]
        picks.append(seed_picks)
        chosen_accuracy.append(_accuracy(chosen, truth, scored))
    bar.close()
    own_mean = [float(np.mean(a)) for a in own_accuracy]
    best = int(np.argmax(own_mean))
    return {
        "models": [model_description(m) for m in models],
        "inner_folds": config.selection.inner_folds,
        "seeds": seeds,
        "accuracy": chosen_accuracy,
        "accuracy_mean": float(np.mean(chosen_accuracy)),
        "accuracy_std": float(np.std(chosen_accuracy)),
        "picks": picks,
        "times_picked": [sum(p.count(k) for p in picks) for k in range(len(models))],
        "model_accuracy": own_accuracy,
        "model_accuracy_mean": own_mean,
        "model_accuracy_std": [float(np.std(a)) for a in own_accuracy],
        "inner_accuracy_mean": [float(np.mean(s)) for s in inner_scores],
        "best_afterwards": best,
        "optimism": own_mean[best] - float(np.mean(chosen_accuracy)),
    }


def selection_summary(selection: dict[str, Any]) -> str:
    """One sentence on a :func:`nested_selection` result: the choosing's accuracy, the best model chosen
    afterwards, and how far apart they are."""
    seeds = len(selection["seeds"])
    spread = f" ± {selection['accuracy_std']:.3f} over {seeds} split seeds" if seeds > 1 else ""
    best = selection["best_afterwards"]
    optimism = selection["optimism"]
    verdict = (
        f"quoting it would overstate the choosing by {100 * optimism:.1f} points"
        if optimism > 0
        else "the choosing does as well"
    )
    return (
        f"choosing among {len(selection['models'])} models by inner {selection['inner_folds']}-fold CV, "
        f"part by part: accuracy {selection['accuracy_mean']:.3f}{spread}; the best of them chosen "
        f"afterwards, {selection['models'][best]}: {selection['model_accuracy_mean'][best]:.3f}; {verdict}. "
        "The figures below and the saved model are of that model"
    )
