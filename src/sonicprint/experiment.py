"""A whole cross-validated experiment: collection -> features -> grouped k-fold -> metrics -> report.

Every track is predicted exactly once, by a model that never saw its group (track, or album/artist/game
with ``split.group``). The report and metrics JSON state the grouping, the resolved config and a hash of
the data; a final model trained on all tracks is saved beside them.
"""

from __future__ import annotations

import functools
import json
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .collection import OK, CollectionSource, IngestReport, decoder_counts, tracks_hash
from .config import ExperimentConfig, save_config, to_dict
from .evaluation import (
    background_summary,
    crossing_groups,
    embedding_map,
    evaluate,
    evaluated_mask,
    kfold_splits,
    label_seen_in_training,
    not_scored_note,
    require_background_tracks,
    require_scored_tracks,
    split_description,
    train_val_test_split,
    training_share,
    unknown_share,
)
from .models import (
    Classifier,
    create_model,
    distinct_windows,
    embed_tracks,
    fit_tracks,
    maker_centroids,
    predict_tracks,
    predict_windows,
    save_model,
    tracks_from_windows,
)
from .part_store import PartStore, copies_fingerprint, table_fingerprint
from .pipeline import FeatureTable, Workspace, build_collection, extract_feature_sets, select_labels


@dataclass
class ExperimentResult:
    metrics: dict[str, Any]
    out_dir: Path
    model_path: Path
    report_path: Path
    #: folds (parts) trained by this call, and folds read back from an earlier, interrupted one
    folds_trained: int = 0
    folds_reused: int = 0


#: the run directory's folder of finished parts (:class:`sonicprint.part_store.PartStore`)
FINISHED_PARTS = "finished_parts"


def data_hash(table: FeatureTable) -> str:
    """Hash of what was evaluated: each track's content hash, label and groups."""
    return tracks_hash(table.hashes, table.labels, table.groups)


def evaluation_splits(
    table: FeatureTable, config: ExperimentConfig
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, train, evaluated) index triples: one per fold, or ``val`` and ``test`` of a holdout split."""
    groups = table.group_values(config.split.group)
    s = config.split
    if s.method == "holdout":
        train, val, test = train_val_test_split(
            table.labels, groups, test_fraction=s.test_fraction, val_fraction=s.val_fraction, seed=s.seed
        )
        parts = [("test", train, test)]
        return [("val", train, val), *parts] if len(val) else parts
    folds = kfold_splits(table.labels, groups, n_folds=s.folds, seed=s.seed)
    return [(str(number), train, test) for number, (train, test) in enumerate(folds)]


def label_seen_mask(table: FeatureTable, config: ExperimentConfig) -> np.ndarray:
    """Per track: evaluated by a model whose training side held its label. False for tracks never
    evaluated (a holdout's training tracks) and for the tracks of a label whose every track shares the
    held-out group (an artist with one album under ``--group album``): no model could name them."""
    seen = np.zeros(len(table.labels), dtype=bool)
    for _, train, evaluated in evaluation_splits(table, config):
        seen[evaluated] = label_seen_in_training(table.labels, train, evaluated)
    return seen


def seeded_runs(config: ExperimentConfig) -> list[ExperimentConfig]:
    """The config of each split seed of the run: ``seed``, ``seed + 1``, ... (``split.repeats`` of them)."""
    s = config.split
    return [replace(config, split=replace(s, seed=s.seed + r)) for r in range(s.repeats)]


def scored_tracks_of_any_seed(table: FeatureTable, config: ExperimentConfig) -> set[str]:
    """Content hashes of the tracks whose verdicts some split seed of the run counts: every track of a
    k-fold split, the test parts of a holdout's seeds (its training and validation tracks never are)."""
    if config.split.method != "holdout":
        return set(table.hashes)
    scored: set[str] = set()
    for run_config in seeded_runs(config):
        for name, _, evaluated in evaluation_splits(table, run_config):
            if name == "test":
                scored.update(table.hashes[i] for i in evaluated)
    return scored


def build_model(config: ExperimentConfig, table: FeatureTable) -> Classifier:
    """A new, unfitted model as the config asks: with ``fusion="late"`` and several feature sets, one
    model per feature set (``late_fusion`` over the table's feature widths)."""
    m = config.model
    if m.fusion == "late" and len(table.block_sizes) > 1:
        return create_model(
            "late_fusion", block_sizes=list(table.block_sizes), model=m.name, model_params=dict(m.params)
        )
    return create_model(m.name, **dict(m.params))


def _track_block(table: FeatureTable, config: ExperimentConfig, extractor: str) -> np.ndarray | None:
    """The columns of feature set ``extractor`` per track ``(n_tracks, width)`` (per-window rows averaged
    over each track's windows), or None when the run has no such set."""
    names = [c.extractor for c in config.feature_sets]
    if extractor not in names or len(table.block_sizes) != len(names) or not len(table.labels):
        return None
    index = names.index(extractor)
    start = sum(table.block_sizes[:index])
    lead = table.features.shape[:2] if table.per_window else table.features.shape[:1]
    flat = table.features.reshape(*lead, -1)[..., start : start + table.block_sizes[index]]
    return np.asarray(flat.mean(axis=1) if table.per_window else flat)


def mix_profiles(table: FeatureTable, config: ExperimentConfig) -> dict[str, Any] | None:
    """Each maker's median mix profile (``features.mix.profile``) when ``mix_stats`` is among the feature
    sets; per-window fingerprints are averaged over each track's windows first."""
    from .features.mix import PROFILE_NAMES, maker_profiles

    fingerprints = _track_block(table, config, "mix_stats")
    if fingerprints is None:
        return None
    return {"columns": list(PROFILE_NAMES), "makers": maker_profiles(fingerprints, table.labels)}


#: tag extractors -> the musicnn network whose tags they hold
TAG_EXTRACTORS = {"musicnn_msd_tags": "MSD_musicnn", "musicnn_mtt_tags": "MTT_musicnn"}


def tag_profiles(table: FeatureTable, config: ExperimentConfig) -> list[dict[str, Any]]:
    """For each musicnn tag feature set of the run, the tags each maker's tracks get more than the
    collection's (:func:`sonicprint.pretrained.musicnn.maker_tag_profiles`)."""
    out = []
    for extractor, network in TAG_EXTRACTORS.items():
        block = _track_block(table, config, extractor)
        if block is None:
            continue
        from .pretrained.musicnn import maker_tag_profiles, tag_names

        names = tag_names(network)
        makers = maker_tag_profiles(block[:, : len(names)], table.labels, names)  # the means, not the stds
        out.append({"network": network, "makers": {m: [list(t) for t in tags] for m, tags in makers.items()}})
    return out


def training_rows(
    table: FeatureTable, copies: Sequence[FeatureTable], train: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels a model trains on: the ``train`` tracks of ``table``, then each degraded copy
    of those same tracks (matched by content hash; a copy that failed is left out). Nothing of any other
    track enters, so a split stays as disjoint with copies as without."""
    features, labels = [table.features[train]], [y[train]]
    for copy in copies:
        row_of = {h: i for i, h in enumerate(copy.hashes)}
        present = [i for i in train if table.hashes[i] in row_of]
        if present:
            features.append(copy.features[[row_of[table.hashes[i]] for i in present]])
            labels.append(y[present])
    return np.concatenate(features), np.concatenate(labels)


@dataclass
class CrossValidation:
    """Out-of-fold predictions of one cross-validation.

    ``probabilities``: per track ``(n_tracks, n_labels)``, NaN rows for tracks never evaluated (a
    holdout's training tracks); ``window_probabilities``: per window ``(n_tracks, n_windows, n_labels)``
    for a per-window table, else None; ``part_of``: the split part that evaluated each track (fold number,
    ``val`` or ``test``; ``""`` when none); ``labels``: the label set; ``per_part``: each part's counts and
    accuracy (over its tracks whose label was on its training side; None when there are none);
    ``condition_probabilities``: per test-time condition, the track probabilities of the evaluated tracks
    under it, by the same part's model ``(n_tracks, n_labels)`` (NaN rows where a track has no features
    under it).
    """

    probabilities: np.ndarray
    window_probabilities: np.ndarray | None
    part_of: np.ndarray
    labels: list[str]
    per_part: list[dict[str, Any]]
    condition_probabilities: dict[str, np.ndarray] = field(default_factory=dict)


def cross_validate(
    table: FeatureTable, config: ExperimentConfig, copies: Sequence[FeatureTable] = ()
) -> tuple[np.ndarray, np.ndarray, list[str], list[dict[str, Any]]]:
    """Class probabilities for every evaluated track (NaN rows for holdout training tracks), the split part
    of each (fold number, ``val`` or ``test``; ``""`` when not evaluated), the label set, per-part metrics
    (accuracy over the part's tracks whose label was on its training side; None when there are none).
    ``copies``: degraded copies of the tracks (:func:`training_rows`), used on the training side only.
    :func:`cross_validate_windows` also gives each window's probabilities."""
    cv = cross_validate_windows(table, config, copies)
    return cv.probabilities, cv.part_of, cv.labels, cv.per_part


def part_training_tracks(
    labels: Sequence[str], train: np.ndarray, share: float, *, seed: int, part: int
) -> np.ndarray:
    """The training tracks a part of a split trains on at ``share`` of its training side (all of them at
    1): ordered by the split seed and the part's number, so that every share of one part is nested."""
    if share >= 1.0:
        return train
    return training_share(labels, train, share, rng=np.random.default_rng([seed, part]))


def cross_validate_windows(
    table: FeatureTable,
    config: ExperimentConfig,
    copies: Sequence[FeatureTable] = (),
    *,
    train_share: float = 1.0,
    store: PartStore | None = None,
    conditions: Mapping[str, FeatureTable] | None = None,
) -> CrossValidation:
    """:func:`cross_validate`, keeping each window's own probabilities when the table is per window.
    ``train_share`` < 1 trains each part on that share of its training tracks per label
    (:func:`sonicprint.evaluation.training_share`, ordered by the split seed and the part's number, so
    shares are nested) and scores the same held-out tracks: a point of a learning curve. ``store``: each
    part's verdicts are read from it when it holds them and saved to it when trained
    (:class:`sonicprint.part_store.PartStore`), so an interrupted run loses at most the part in training.
    ``conditions``: tables of the same tracks under test-time conditions (matched by content hash); each
    part's model also scores its held-out tracks in each of them (never trains on them)."""
    labels = sorted(set(table.labels))
    y = np.array([labels.index(lab) for lab in table.labels])
    groups = table.group_values(config.split.group)
    probabilities = np.full((len(y), len(labels)), np.nan)
    windows = np.full((*table.features.shape[:2], len(labels)), np.nan) if table.per_window else None
    fold_of = np.full(len(y), "", dtype=object)
    per_fold = []
    conditions = dict(conditions or {})
    under = {name: np.full((len(y), len(labels)), np.nan) for name in conditions}
    row_in = {name: {h: i for i, h in enumerate(t.hashes)} for name, t in conditions.items()}
    kept = store if store is not None and store.directory is not None else None
    identity: dict[str, Any] = {}
    if kept is not None:  # everything a part's verdicts depend on, besides its number
        identity = {
            "table": table_fingerprint(table),
            "copies": copies_fingerprint(copies),
            # how a run reports (calibration) or how many seeds it runs (repeats) never changes a part's
            # verdicts: more repeats or --calibrate later reuse the parts already trained
            "model": to_dict(replace(config.model, calibration="none")),
            "split": to_dict(replace(config.split, repeats=1)),
            "train_share": train_share,
        }
        if conditions:  # named only when asked for: the parts of a run without them keep their names
            identity["conditions"] = {name: table_fingerprint(t) for name, t in conditions.items()}
    for index, (number, train, test) in enumerate(evaluation_splits(table, config)):
        train = part_training_tracks(table.labels, train, train_share, seed=config.split.seed, part=index)
        crossing = crossing_groups(groups, train, test)
        if crossing:  # cannot happen with kfold_splits; checked because a leak would void every number
            raise RuntimeError(f"split leak: groups on both sides: {sorted(crossing)[:3]}")
        key = PartStore.key(**identity, part=index)
        saved = kept.load(key) if kept is not None else None
        expected = {"test", "probabilities", *(["windows"] if windows is not None else [])}
        expected |= {f"condition {name}" for name in conditions}
        if saved is None or saved.keys() != expected or not np.array_equal(saved["test"], test):
            model = build_model(config, table)
            x_train, y_train = training_rows(table, copies, train, y)
            fit_tracks(model, x_train, y_train, n_classes=len(labels), per_window=table.per_window)
            if windows is not None:
                part_windows = predict_windows(model, table.features[test])
                part_tracks = tracks_from_windows(part_windows)
                saved = {"test": test, "windows": part_windows, "probabilities": part_tracks}
            else:
                part_tracks = predict_tracks(model, table.features[test], per_window=False)
                saved = {"test": test, "probabilities": part_tracks}
            for name, other in conditions.items():
                rows = [row_in[name].get(table.hashes[i], -1) for i in test]
                verdicts = np.full((len(test), len(labels)), np.nan)
                present = np.array([r >= 0 for r in rows], dtype=bool)
                if present.any():
                    features = other.features[[r for r in rows if r >= 0]]
                    verdicts[present] = predict_tracks(model, features, per_window=table.per_window)
                saved[f"condition {name}"] = verdicts
            if kept is not None:
                kept.save(key, saved)
        if windows is not None:
            windows[test] = saved["windows"]
        probabilities[test] = saved["probabilities"]
        for name in conditions:
            under[name][test] = saved[f"condition {name}"]
        fold_of[test] = number
        scored = test[label_seen_in_training(table.labels, train, test)]
        per_fold.append(
            {
                "part": number,
                "n_train": len(train),
                "n_test": len(test),
                "n_scored": len(scored),
                "accuracy": float(np.mean(probabilities[scored].argmax(1) == y[scored]))
                if len(scored)
                else None,
            }
        )
    return CrossValidation(probabilities, windows, fold_of, labels, per_fold, under)


def robustness_accuracy(
    cv: CrossValidation, truth: np.ndarray, scored: np.ndarray, conditions: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Per test-time condition (``clean``: the tracks as they are), the track accuracy over the ``scored``
    tracks that have features under it, and how many those are."""
    out: dict[str, dict[str, Any]] = {}
    for name in conditions:
        probabilities = cv.probabilities if name == "clean" else cv.condition_probabilities[name]
        judged = scored & ~np.isnan(probabilities).any(axis=1)
        right = probabilities[judged].argmax(1) == truth[judged]
        accuracy = float(np.mean(right)) if judged.any() else None
        out[name] = {"accuracy": accuracy, "n_scored": int(judged.sum())}
    return out


def window_metrics(table: FeatureTable, cv: CrossValidation, scored: np.ndarray) -> dict[str, Any]:
    """:func:`evaluate` of each window of the ``scored`` tracks judged on its own (a per-window table); a
    short track's repeated window counts once."""
    assert cv.window_probabilities is not None
    distinct = distinct_windows(table.features[scored])
    reference = [lab for lab, keep in zip(table.labels, scored) if keep]
    return evaluate(
        [lab for lab, row in zip(reference, distinct) for keep in row if keep],
        [cv.labels[i] for i in cv.window_probabilities[scored][distinct].argmax(1)],
        cv.labels,
    )


def repeated_evaluation(
    table: FeatureTable,
    config: ExperimentConfig,
    copies: Sequence[FeatureTable] = (),
    *,
    first: CrossValidation | None = None,
    store: PartStore | None = None,
    conditions: Mapping[str, FeatureTable] | None = None,
) -> dict[str, Any]:
    """The evaluation run ``config.split.repeats`` times, with split seeds ``seed``, ``seed + 1``, ...:
    each run's track accuracy, macro F1, expected calibration error and Brier score (and each window's
    accuracy for a per-window table), with their mean and standard deviation over runs. ``first``: the
    cross-validation of ``seed``, when already done; ``store``: where each trained part is kept
    (:func:`cross_validate_windows`); ``conditions``: test-time condition tables, whose accuracies
    (:func:`robustness_accuracy`, with ``clean`` when ``config.robustness`` names it) join each run's."""
    run_configs = seeded_runs(config)
    seeds = [c.split.seed for c in run_configs]
    runs: dict[str, list[float | None]] = {"accuracy": [], "macro_f1": [], "ece": [], "brier": []}
    if table.per_window:
        runs["window_accuracy"] = []
    for name in config.robustness:
        runs[f"robustness {name}"] = []
    truth = np.array([sorted(set(table.labels)).index(lab) for lab in table.labels])
    for run_config in run_configs:
        cv = first if first is not None and run_config.split.seed == config.split.seed else None
        cv = cv or cross_validate_windows(table, run_config, copies, store=store, conditions=conditions)
        seen = label_seen_mask(table, run_config)
        probabilities, _ = held_out_probabilities(table, run_config, cv, seen)
        scored = evaluated_mask(cv.part_of, holdout=config.split.method == "holdout") & seen
        reference = [lab for lab, keep in zip(table.labels, scored) if keep]
        estimate = [cv.labels[i] for i in probabilities[scored].argmax(1)]
        result = evaluate(reference, estimate, cv.labels, probabilities=probabilities[scored])
        runs["accuracy"].append(result["accuracy"])
        runs["macro_f1"].append(result["macro"]["f1"])
        runs["ece"].append(result["calibration"]["ece"])
        runs["brier"].append(result["calibration"]["brier"])
        if table.per_window:
            runs["window_accuracy"].append(window_metrics(table, cv, scored)["accuracy"])
        for name, under in robustness_accuracy(cv, truth, scored, config.robustness).items():
            runs[f"robustness {name}"].append(under["accuracy"])
    summary: dict[str, Any] = {"seeds": seeds, **runs}
    for key, values in runs.items():
        known = [v for v in values if v is not None]  # a condition no track of a seed could be scored in
        summary[f"{key}_mean"] = float(np.mean(known)) if known else None
        summary[f"{key}_std"] = float(np.std(known)) if known else None
    return summary


def learning_curve(
    table: FeatureTable,
    config: ExperimentConfig,
    copies: Sequence[FeatureTable] = (),
    *,
    whole: Sequence[float],
    store: PartStore | None = None,
) -> dict[str, Any]:
    """Track accuracy against the share of each part's training tracks (``config.learning_curve``, then
    the whole training side, whose accuracies per split seed are ``whole``), over the run's split seeds;
    every share is scored on the same held-out tracks as the run. With each share, the median number of
    training tracks per label. ``store``: where each trained part is kept (:func:`cross_validate_windows`)."""
    run_configs = seeded_runs(config)
    seeds = [c.split.seed for c in run_configs]
    shares = sorted(config.learning_curve)
    accuracy: dict[float, list[float]] = {share: [] for share in shares}
    per_label: dict[float, list[float]] = {share: [] for share in [*shares, 1.0]}
    y = np.array([sorted(set(table.labels)).index(lab) for lab in table.labels])
    for run_config in run_configs:
        seen = label_seen_mask(table, run_config)
        for share in shares:
            cv = cross_validate_windows(table, run_config, copies, train_share=share, store=store)
            scored = evaluated_mask(cv.part_of, holdout=config.split.method == "holdout") & seen
            accuracy[share].append(float(np.mean(cv.probabilities[scored].argmax(1) == y[scored])))
        for index, (_, train, _) in enumerate(evaluation_splits(table, run_config)):
            for share in per_label:
                kept = part_training_tracks(
                    table.labels, train, share, seed=run_config.split.seed, part=index
                )
                counts = Counter(table.labels[i] for i in kept)
                per_label[share].append(float(np.median(list(counts.values()))))
    accuracy[1.0] = list(whole)
    return {
        "shares": [*shares, 1.0],
        "seeds": seeds,
        "accuracy": [accuracy[share] for share in [*shares, 1.0]],
        "accuracy_mean": [float(np.mean(accuracy[share])) for share in [*shares, 1.0]],
        "accuracy_std": [float(np.std(accuracy[share])) for share in [*shares, 1.0]],
        "median_training_tracks_per_label": [float(np.median(per_label[share])) for share in [*shares, 1.0]],
    }


def held_out_probabilities(
    table: FeatureTable, config: ExperimentConfig, cv: CrossValidation, seen: np.ndarray
) -> tuple[np.ndarray, float | None]:
    """The cross-validation's track probabilities as the config asks them to be reported: as they are, or
    temperature-scaled (:func:`sonicprint.models.calibrate_out_of_fold`, with the saved model's
    temperature; None without). ``seen``: :func:`label_seen_mask`."""
    if config.model.calibration != "temperature":
        return cv.probabilities, None
    from .models import calibrate_out_of_fold

    truth = np.array([cv.labels.index(lab) for lab in table.labels])
    held_out = seen & (cv.part_of != "")  # every track some model predicted without having seen it
    return calibrate_out_of_fold(cv.probabilities, truth, cv.part_of, held_out)


def validate_config(config: ExperimentConfig) -> None:
    """Fail before any work when a name in the config is unknown (each error lists the known names)."""
    from .evaluation import MAPS
    from .executors import EXECUTORS
    from .features import create_extractor

    for model in (config.model, *config.selection.candidates):
        create_model(model.name, **dict(model.params))
    for features in config.feature_sets:
        create_extractor(features)
    EXECUTORS.get(config.executor)
    for method in config.maps:
        MAPS.get(method)
    if config.robustness:
        from .deep.transforms import CONDITIONS

        for condition in config.robustness:
            CONDITIONS.get(condition)


def run_experiment(
    source: CollectionSource,
    config: ExperimentConfig,
    *,
    workspace: str | Path,
    out_dir: str | Path,
    progress: bool = True,
    title: str = "Sonicprint experiment",
) -> ExperimentResult:
    """Run a cross-validated experiment and write ``report.html``, ``metrics.json``, ``config.json``,
    ``predictions.csv``, ``problems.txt`` and ``model.pt`` into ``out_dir``, and in ``finished_parts/``
    the verdicts of every part (fold) trained, from which the same run resumes after an interruption
    (:class:`sonicprint.part_store.PartStore`)."""
    from .report import write_report

    validate_config(config)
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_config(config, out / "config.json")
    with Workspace(workspace) as ws:
        ingest_report = build_collection(
            ws, source, min_duration_s=config.collection.min_duration_s, progress=progress
        )
        extract = functools.partial(
            extract_feature_sets,
            ws,
            config.feature_sets,
            executor=config.executor,
            workers=config.workers,
            progress=progress,
            per_window=config.per_window,
        )
        full = extract()
        table = select_labels(full, min_tracks=config.collection.min_tracks_per_label)
        in_run = set(table.hashes)  # the tracks of labels left out are never used: not transformed
        copies = [extract(degraded_copy=k, only=in_run) for k in range(1, config.augment_copies + 1)]
        # only the tracks some seed scores are transformed: a holdout's training tracks never are
        judged = scored_tracks_of_any_seed(table, config) if config.robustness else set()
        conditions = {
            name: extract(condition=name, only=judged) for name in config.robustness if name != "clean"
        }
        decoder_of = {row.path: row.backend for row in ws.store.tracks(status=OK)}
    # first: it explains a failure below
    _write_problems(out / "problems.txt", ingest_report, full, copies, conditions)
    if len(set(table.labels)) < 2:
        missing = ingest_report.missing_note()
        raise ValueError(
            f"need at least 2 labels with {config.collection.min_tracks_per_label}+ usable tracks; "
            f"found {len(set(table.labels))}{'; ' * bool(missing)}{missing} (see {out / 'problems.txt'})"
        )
    background = config.collection.background
    require_background_tracks(table.labels, background)
    grouping = config.split.group or "track"
    seen = label_seen_mask(table, config)
    require_scored_tracks(seen, grouping)
    given, selection = config, None
    store = PartStore(out / FINISHED_PARTS)
    if config.selection.candidates:  # choose first; every table below and model.pt are of the choice
        from .selection import nested_selection

        selection = nested_selection(
            table, config, copies, progress=progress, store=store, conditions=conditions
        )
        chosen = (config.model, *config.selection.candidates)[selection["best_afterwards"]]
        config = replace(config, model=chosen)
    cv = cross_validate_windows(table, config, copies, store=store, conditions=conditions)
    probabilities, part_of, labels, per_part = cv.probabilities, cv.part_of, cv.labels, cv.per_part
    holdout = config.split.method == "holdout"
    evaluated = evaluated_mask(part_of, holdout=holdout)
    scored = evaluated & seen
    probabilities, temperature = held_out_probabilities(table, config, cv, seen)
    reference = [lab for lab, keep in zip(table.labels, scored) if keep]
    estimate = [labels[i] for i in probabilities[scored].argmax(1)]
    metrics = evaluate(reference, estimate, labels, probabilities=probabilities[scored])
    part_acc = [f["accuracy"] for f in per_part if f["accuracy"] is not None]
    unscored = [lab for lab, keep in zip(table.labels, evaluated & ~seen) if keep]
    if cv.window_probabilities is not None:  # each window judged on its own, beside the track verdicts
        metrics["window"] = window_metrics(table, cv, scored)
    if config.split.repeats > 1:
        metrics["repeats"] = repeated_evaluation(
            table, config, copies, first=cv, store=store, conditions=conditions
        )
    if config.learning_curve:
        whole = metrics["repeats"]["accuracy"] if "repeats" in metrics else [metrics["accuracy"]]
        metrics["learning_curve"] = learning_curve(table, config, copies, whole=whole, store=store)
    if selection is not None:
        metrics["selection"] = selection
    if config.robustness:  # the same models on the held-out tracks transformed
        truth = np.array([labels.index(lab) for lab in table.labels])
        metrics["robustness"] = robustness_accuracy(cv, truth, scored, config.robustness)
    if background:  # makers' tracks named against others' tracks turned away
        metrics["background"] = background_summary(
            reference, probabilities[scored], labels, background=background
        )
    if unscored:  # tracks of makers no model heard: the share an "unknown" threshold would catch
        metrics["not_scored_unknown"] = unknown_share(probabilities[evaluated & ~seen])
    s = config.split
    evaluation = split_description(
        method=s.method,
        folds=s.folds,
        test_fraction=s.test_fraction,
        val_fraction=s.val_fraction,
        grouping=grouping,
    )
    if config.split.repeats > 1:
        r = metrics["repeats"]
        evaluation += (
            f", repeated over {len(r['seeds'])} split seeds ({r['seeds'][0]}-{r['seeds'][-1]}; "
            f"the tables are of seed {r['seeds'][0]})"
        )
    if config.per_window:
        evaluation += (
            f"; trained on each of {config.features.n_windows} windows, decided per track "
            "(mean window log-probability)"
        )
    if unscored:
        evaluation += "; " + not_scored_note(Counter(unscored), grouping)
    if temperature is not None:
        evaluation += (
            "; probabilities temperature-scaled, each part's by a temperature fitted on the other parts' "
            f"held-out tracks (the saved model's, fitted on all of them: {temperature:.2f})"
        )
        metrics.setdefault("calibration", {})["temperature"] = temperature
    if selection is not None:
        evaluation += (
            f"; the model chosen among {len(selection['models'])} by an inner "
            f"{selection['inner_folds']}-fold cross-validation of each part's training tracks scores "
            f"{selection['accuracy_mean']:.1%} as chosen part by part (the figure to expect), "
            f"{selection['model_accuracy_mean'][selection['best_afterwards']]:.1%} on its own"
        )
    if config.augment_copies:
        evaluation += (
            f"; trained with {config.augment_copies} randomly degraded copies of each training track "
            "(evaluated tracks as they are)"
        )
    metrics.update(
        {
            "title": title,
            "model": config.model.name,
            "fusion": config.model.fusion if len(config.feature_sets) > 1 else "single feature set",
            "extractor": " + ".join(c.spec for c in config.feature_sets),
            "evaluation": evaluation,
            "grouping": grouping,
            "folds": per_part,
            "fold_accuracy_mean": float(np.mean(part_acc)),
            "fold_accuracy_std": float(np.std(part_acc)),
            "data_hash": data_hash(table),
            "n_tracks": len(table.labels),
            "n_scored": int(scored.sum()),
            "not_scored": dict(sorted(Counter(unscored).items())),
            "n_skipped": len(ingest_report.skipped) + len(ingest_report.source_problems) + len(full.errors),
            "decoders": decoder_counts(decoder_of.get(path, "") for path in table.paths),
            "config": to_dict(given),
        }
    )
    final = build_model(config, table)
    y_all = np.array([labels.index(lab) for lab in table.labels])
    x_all, y_all = training_rows(table, copies, np.arange(len(y_all)), y_all)
    fit_tracks(final, x_all, y_all, n_classes=len(labels), per_window=table.per_window)
    embedding = embed_tracks(final, table.features, per_window=table.per_window)
    model_path = save_model(
        out / "model.pt",
        final,
        labels=labels,
        feature_configs=config.feature_sets,
        extra={
            "data_hash": metrics["data_hash"],
            "grouping": grouping,
            "background": background,
            **({"temperature": temperature} if temperature is not None else {}),
        },
        per_window=table.per_window,
        maker_centroids=maker_centroids(embedding, table.labels, labels),
    )
    maps = {}
    for method in config.maps:
        try:
            maps[method] = embedding_map(embedding, method=method, seed=config.split.seed)
        except ValueError as exc:
            metrics.setdefault("map_errors", {})[method] = str(exc)
    profiles = mix_profiles(table, config)
    if profiles:
        metrics["mix_profile"] = profiles
    tags = tag_profiles(table, config)
    if tags:
        metrics["tag_profile"] = tags
    metrics["seconds"] = round(time.perf_counter() - started, 2)
    _write_predictions(out / "predictions.csv", table, labels, probabilities, part_of)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    report_path = write_report(out, metrics, maps=maps, track_labels=table.labels)
    return ExperimentResult(metrics, out, model_path, report_path, len(store.saved), len(store.reused))


def _write_predictions(
    path: Path, table: FeatureTable, labels: list[str], proba: np.ndarray, part_of: np.ndarray
) -> None:
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["path", "label", "predicted", "probability", "split", *[f"p:{lab}" for lab in labels]]
        )
        for i, p in enumerate(table.paths):
            if not part_of[i]:
                continue  # a holdout training track: not predicted
            best = int(proba[i].argmax())
            writer.writerow(
                [
                    p,
                    table.labels[i],
                    labels[best],
                    f"{proba[i, best]:.4f}",
                    part_of[i],
                    *[f"{v:.4f}" for v in proba[i]],
                ]
            )


def _write_problems(
    path: Path,
    report: IngestReport,
    table: FeatureTable,
    copies: Sequence[FeatureTable] = (),
    conditions: Mapping[str, FeatureTable] | None = None,
) -> None:
    lines = report.lines() + [f"{p}: features failed: {reason}" for p, reason in table.errors]
    clean_errors = set(table.errors)
    lines += [
        f"{p}: degraded copy {k} left out of training: {reason}"
        for k, copy in enumerate(copies, start=1)
        for p, reason in copy.errors
        if (p, reason) not in clean_errors
    ]
    lines += [
        f"{p}: not scored under {name}: {reason}"
        for name, other in (conditions or {}).items()
        for p, reason in other.errors
        if (p, reason) not in clean_errors
    ]
    path.write_text("".join(line + "\n" for line in lines) if lines else "no problems\n", encoding="utf-8")
