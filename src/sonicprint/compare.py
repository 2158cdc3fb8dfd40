"""Compare two finished runs (``experiment`` or ``cnn`` folders) on the tracks both judged."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from .errors import FileProblem


def read_verdicts(run_dir: str | Path) -> dict[str, tuple[str, str]]:
    """``path -> (label, verdict)`` from a run's ``predictions.csv``: an experiment's ``predicted`` column or
    a network's clean-audio one; a holdout's validation tracks are left out, as its metrics leave them.

    Raises
    ------
    FileProblem
        When the file is missing or lacks the columns.
    """
    path = Path(run_dir) / "predictions.csv"
    if not path.is_file():
        raise FileProblem(path, "not found: is the folder a finished experiment or cnn run?")
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise FileProblem(path, f"not a readable CSV ({exc})") from exc
    columns = list(rows[0]) if rows else []
    verdict = next((c for c in ("predicted", "predicted:clean") if c in columns), None)
    verdict = verdict or next((c for c in columns if c.startswith("predicted:")), None)
    if not rows or "path" not in columns or "label" not in columns or verdict is None:
        raise FileProblem(path, "no predictions (expected the columns path, label and predicted)")
    split = "split" if "split" in columns else "fold"
    return {r["path"]: (r["label"], r[verdict]) for r in rows if r.get(split) != "val"}


def compare_runs(
    run_a: str | Path, run_b: str | Path, *, seed: int = 0, n_resamples: int = 10000
) -> dict[str, Any]:
    """Paired comparison of two runs on the tracks both predicted (:func:`sonicprint.evaluation.compare
    .evaluate`), with how many tracks only one of them holds.

    Raises
    ------
    FileProblem
        When a run has no predictions, or the runs give one track different labels.
    ValueError
        When no track was predicted by both.
    """
    from .evaluation import compare

    a, b = read_verdicts(run_a), read_verdicts(run_b)
    common = [p for p in a if p in b]
    disagree = [p for p in common if a[p][0] != b[p][0]]
    if disagree:
        raise FileProblem(
            Path(run_b) / "predictions.csv",
            f"labels {disagree[0]} {b[disagree[0]][0]!r} where {run_a} has {a[disagree[0]][0]!r}: "
            "the runs are of different collections",
        )
    result = compare.evaluate(
        [a[p][0] for p in common],
        [a[p][1] for p in common],
        [b[p][1] for p in common],
        rng=np.random.default_rng(seed),
        n_resamples=n_resamples,
    )
    return {
        "run_a": str(run_a),
        "run_b": str(run_b),
        **result,
        "only_in_a": len(a) - len(common),
        "only_in_b": len(b) - len(common),
        "notes": evaluation_notes(_metrics(run_a), _metrics(run_b)),
    }


def _metrics(run_dir: str | Path) -> dict[str, Any]:
    """A run's ``metrics.json``, or nothing where it is missing or unreadable (the verdicts still compare)."""
    import json

    try:
        return dict(json.loads((Path(run_dir) / "metrics.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return {}


def evaluation_notes(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """What a reader of a comparison should know about how two runs (their metrics) were evaluated: held
    out by different groups, split differently, repeated over split seeds (whose mean the comparison of one
    seed's predictions is not), or on different collections."""
    notes = []
    if a.get("grouping") and b.get("grouping") and a["grouping"] != b["grouping"]:
        notes.append(
            f"the runs held out different things (A {a['grouping']}-disjoint, B {b['grouping']}-disjoint): "
            "the harder split will look worse whatever the models"
        )
    else:
        differences = _split_differences(a, b)
        if differences:
            notes.append(
                f"split differently ({differences}): each track was held out from another training set, so "
                "part of the difference is the split's"
            )
    repeated = [
        f"{name} {r['accuracy_mean']:.1%} ± {r['accuracy_std']:.1%} over {len(r['seeds'])} split seeds"
        for name, r in (("A", a.get("repeats")), ("B", b.get("repeats")))
        if isinstance(r, dict) and r.get("seeds")
    ]
    if repeated:
        notes.append(
            f"mean accuracy {', '.join(repeated)}; this comparison is of the predictions of the first split "
            "seed, the ones predictions.csv holds"
        )
    if a.get("data_hash") and b.get("data_hash") and a["data_hash"] != b["data_hash"]:
        notes.append(
            f"the runs saw different data (data hash A {a['data_hash']}, B {b['data_hash']}: other tracks, "
            "labels or group columns); only the tracks both judged are compared"
        )
    return notes


#: the settings that decide which tracks each held-out track was trained without (model settings such as
#: calibration, windows or augmentation are what a comparison compares, so they raise no note)
_SPLIT_KEYS = {
    "kfold": ("method", "folds", "seed"),
    "holdout": ("method", "test_fraction", "val_fraction", "seed"),
}


def _split_differences(a: dict[str, Any], b: dict[str, Any]) -> str:
    """How the two runs' splits differ, as ``"folds: A 5, B 3"``; empty when they agree or are unknown. Read
    from each run's resolved config; runs without one are compared by the split clause of their
    evaluation sentence."""
    split_a = (a.get("config") or {}).get("split") or {}
    split_b = (b.get("config") or {}).get("split") or {}
    if split_a and split_b:
        keys = _SPLIT_KEYS.get(str(split_a.get("method")), ("method", "folds", "seed"))
        return "; ".join(
            f"{key.replace('_', ' ')}: A {split_a.get(key)}, B {split_b.get(key)}"
            for key in keys
            if split_a.get(key) != split_b.get(key)
        )
    clause_a, clause_b = (str(m.get("evaluation") or "").split(";")[0] for m in (a, b))
    return f"A: {clause_a}; B: {clause_b}" if clause_a and clause_b and clause_a != clause_b else ""
