"""Late fusion on the game-music development set: the spectrogram network's track probabilities with the
classical and musicnn models', on the same track-disjoint folds.

    python benchmarks/gamemusic_cnn.py --network wavenet --epochs 15 --n-windows 3 --robustness
    python benchmarks/gamemusic_cnn.py --network wavenet --epochs 15 --n-windows 3 --seed 1   # and --seed 2
    python benchmarks/gamemusic_fusion.py [--cnn RUN/predictions.csv ...]

Every model scores each track from a fold that did not train on it (5-fold, fold seed 0, the CNN run's
folds, checked track by track). Fusion is the normalised geometric mean of the probabilities with equal
weights: nothing is fitted on the scored tracks. Writes benchmarks/results/gamemusic_fusion.{json,md}.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gamemusic import HERE, NAEV_COMPOSERS, check_data, source_with_min_tracks

from sonicprint.config import ExperimentConfig, FeatureConfig, ModelConfig, SplitConfig
from sonicprint.evaluation import evaluate
from sonicprint.experiment import cross_validate
from sonicprint.models import fuse_probabilities
from sonicprint.pipeline import Workspace, build_collection, extract_feature_sets, select_labels

STATS = FeatureConfig()
MSD = replace(STATS, extractor="musicnn_msd_penultimate")
CLASSICAL = [  # (name, feature sets, model, trained per window)
    ("statistics LDA", (STATS,), "lda", False),
    ("statistics + musicnn LR", (STATS, MSD), "logreg", False),
    ("statistics per window LDA", (STATS,), "lda", True),
    ("statistics + musicnn per window LR", (STATS, MSD), "logreg", True),
]


def read_cnn(path: Path) -> tuple[dict[str, np.ndarray], dict[str, int], list[str]]:
    """Track probabilities and folds by content hash, and the label order, from a CNN predictions.csv."""
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "content_hash" not in rows[0]:
        raise SystemExit(f"{path}: no track probabilities (rerun gamemusic_cnn.py with this version)")
    names = [c.removeprefix("probability:") for c in rows[0] if c.startswith("probability:")]
    probabilities = {r["content_hash"]: np.array([float(r[f"probability:{n}"]) for n in names]) for r in rows}
    return probabilities, {r["content_hash"]: int(r["fold"]) for r in rows}, names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cnn",
        type=Path,
        action="append",
        help="a CNN run's predictions.csv; several (training seeds) are fused into one CNN ensemble first "
        "(default: runs/gamemusic_cnn_wavenet*/predictions.csv of seed 0, 1, 2 where present)",
    )
    parser.add_argument("--workspace", default=str(HERE / ".workspace"))
    args = parser.parse_args()
    check_data()
    paths = args.cnn or [
        p
        for p in [
            HERE / "runs" / f"gamemusic_cnn_wavenet{suffix}" / "predictions.csv"
            for suffix in ("", "_seed1", "_seed2")
        ]
        if p.is_file()
    ]
    runs = [read_cnn(p) for p in paths]
    cnn_fold, cnn_names = runs[0][1], runs[0][2]
    if any(fold != cnn_fold or names != cnn_names for _, fold, names in runs):
        raise SystemExit("the CNN runs used different folds or labels")
    scores: dict[str, np.ndarray] = {}
    with Workspace(args.workspace) as ws:
        build_collection(ws, source_with_min_tracks(8), min_duration_s=10.0, progress=False)
        for name, configs, model, per_window in CLASSICAL:
            table = select_labels(
                extract_feature_sets(ws, configs, progress=False, per_window=per_window), min_tracks=8
            )
            split = SplitConfig(folds=5, seed=0)
            proba, fold_of, names, _ = cross_validate(
                table, ExperimentConfig(model=ModelConfig(model), split=split)
            )
            if names != cnn_names or set(table.hashes) != set(cnn_fold):
                raise SystemExit(f"{name}: the CNN run scored other tracks or labels; rerun both")
            moved = [h for h, f in zip(table.hashes, fold_of) if int(f) != cnn_fold[h]]
            if moved:
                raise SystemExit(f"{name}: {len(moved)} tracks sit in another fold than in the CNN run")
            scores[name] = proba
            hashes, labels = table.hashes, table.labels
    seeds = [np.stack([probabilities[h] for h in hashes]) for probabilities, _, _ in runs]
    cnn_name = "CNN (wavenet)" if len(seeds) == 1 else f"CNN (wavenet, {len(seeds)} seeds fused)"
    single_seeds = [f"CNN (wavenet, seed run {k})" for k in range(len(seeds))] if len(seeds) > 1 else []
    scores = {cnn_name: fuse_probabilities(seeds), **scores}
    naev = np.isin(labels, NAEV_COMPOSERS)

    def row(members: list[str], probabilities: np.ndarray) -> dict:  # type: ignore[type-arg]
        predicted = np.asarray([names[i] for i in probabilities.argmax(1)])
        m = evaluate(labels, list(predicted), names)
        truth = np.asarray(labels)
        return {
            "models": members,
            "accuracy": m["accuracy"],
            "macro_f1": m["macro"]["f1"],
            "naev_accuracy": float(np.mean(predicted[naev] == truth[naev])),
        }

    results = [row([name], single) for name, single in zip(single_seeds, seeds)]
    for size in range(1, len(scores) + 1):
        for members in itertools.combinations(scores, size):
            results.append(row(list(members), fuse_probabilities([scores[m] for m in members])))
    out = {
        "protocol": f"composers with >= 8 tracks ({len(names)} composers, {len(labels)} tracks); 5-fold CV, "
        "track-disjoint, fold seed 0 (the CNN run's folds); equal-weight geometric-mean fusion",
        "cnn_predictions": [
            str(p.relative_to(HERE.parent) if p.is_relative_to(HERE.parent) else p) for p in paths
        ],
        "results": results,
    }
    (HERE / "results" / "gamemusic_fusion.json").write_text(
        json.dumps(out, indent=2) + "\n", encoding="utf-8"
    )
    lines = ["| models fused | track accuracy | macro F1 | Naev accuracy |", "|---|---|---|---|"]
    lines += [
        f"| {' + '.join(r['models'])} | {r['accuracy']:.1%} | {r['macro_f1']:.3f} | {r['naev_accuracy']:.1%} |"
        for r in results
    ]
    lines.append(
        f"\n{out['protocol']}. The fusion declared in advance is the last row (every model); picking the "
        "best row after seeing them all would overstate what a new collection gets."
    )
    (HERE / "results" / "gamemusic_fusion.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
