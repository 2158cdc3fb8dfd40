"""Learning curve on the game-music set: does accuracy still climb with more training tracks per composer?

The two best models (the LDA recipe: one shrinkage LDA per family, fused; three MLP heads on the three
families concatenated) are trained on a share of each fold's training tracks (25%, 50%, 75%, all; per
composer, at least two tracks; each smaller share a subset of the larger, drawn per fold seed and fold)
and scored on the same held-out tracks as the full runs: 8 composers with 8+ tracks, 111 tracks,
track-disjoint 5-fold CV over five fold seeds, six 20 s windows per track, decided per track. If accuracy
still rises steeply at the full share, more tracks per composer are what the target needs; if it has
flattened, more of the same data will not get there.

    python benchmarks/gamemusic_learning_curve.py [--workspace DIR] [--seeds 5]

Writes benchmarks/results/gamemusic_learning_curve.{json,md}. Reads the feature cache of
`gamemusic_fingerprint.py` (about 20 minutes on 2 cores from a warm cache, most of it the MLP heads).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gamemusic import HERE, benchmark_parser, composer_source
from gamemusic_fingerprint import LDA, MIX, MSD, STATS
from gamemusic_mlp_head import MINI_BATCH

from sonicprint.config import ExperimentConfig, ModelConfig, SplitConfig
from sonicprint.experiment import build_model, evaluation_splits
from sonicprint.models.windows import fit_tracks, predict_windows, tracks_from_windows
from sonicprint.pipeline import Workspace, build_collection, extract_feature_sets, select_labels

SHARES = (0.25, 0.5, 0.75, 1.0)
MODELS = {
    "the LDA recipe (one LDA per family, fused)": ModelConfig("lda", LDA, "late"),
    "three MLP heads on the three families": ModelConfig("mlp", {**MINI_BATCH, "members": 3}),
}


def training_share(
    labels: np.ndarray, train: np.ndarray, share: float, rng: np.random.Generator
) -> np.ndarray:
    """``share`` of the ``train`` indices of each label (at least two), nested: the tracks kept at a smaller
    share are the first of one random order per label, so they are also kept at every larger share."""
    kept = []
    for label in np.unique(labels[train]):
        own = rng.permutation(train[labels[train] == label])
        kept.append(own[: max(2, round(share * len(own)))])
    return np.sort(np.concatenate(kept))


def learning_curve(table, model: ModelConfig, seeds: int) -> dict:  # type: ignore[no-untyped-def]
    """Track accuracy per share of the training tracks, mean ± std over fold seeds."""
    names = sorted(set(table.labels))
    labels = np.array(table.labels)
    y = np.array([names.index(lab) for lab in labels])
    accuracy = {share: [] for share in SHARES}
    per_composer = {share: [] for share in SHARES}
    for seed in range(seeds):
        config = ExperimentConfig(model=model, split=SplitConfig(folds=5, seed=seed), per_window=True)
        correct = {share: np.zeros(len(y), dtype=bool) for share in SHARES}
        for number, train, test in evaluation_splits(table, config):
            for share in SHARES:
                rng = np.random.default_rng([seed, int(number)])  # the same order for every share
                kept = training_share(labels, train, share, rng)
                fitted = build_model(config, table)
                fit_tracks(fitted, table.features[kept], y[kept], n_classes=len(names), per_window=True)
                verdicts = tracks_from_windows(predict_windows(fitted, table.features[test])).argmax(1)
                correct[share][test] = verdicts == y[test]
                per_composer[share].append(float(np.median(np.unique(labels[kept], return_counts=True)[1])))
        for share in SHARES:
            accuracy[share].append(float(correct[share].mean()))
        print(f"  seed {seed}: " + ", ".join(f"{s:.0%} {accuracy[s][-1]:.3f}" for s in SHARES), flush=True)
    return {
        str(share): {
            "accuracy_mean": float(np.mean(accuracy[share])),
            "accuracy_std": float(np.std(accuracy[share])),
            "accuracy_per_seed": accuracy[share],
            "median_training_tracks_per_composer": float(np.median(per_composer[share])),
        }
        for share in SHARES
    }


def main() -> None:
    args = benchmark_parser(__doc__).parse_args()
    with Workspace(args.workspace) as ws:
        build_collection(ws, composer_source(), min_duration_s=10.0, progress=False)
        table = select_labels(
            extract_feature_sets(
                ws, (STATS, MIX, MSD), workers=args.workers, progress=False, per_window=True
            ),
            min_tracks=8,
        )
    results = {}
    for name, model in MODELS.items():
        began = time.perf_counter()
        print(name, flush=True)
        results[name] = {"curve": learning_curve(table, model, args.seeds)}
        results[name]["seconds"] = round(time.perf_counter() - began, 1)
    protocol = (
        f"8 composers with >= 8 tracks, {len(table.labels)} tracks; 5-fold CV, track-disjoint, stratified; "
        f"mean ± std over {args.seeds} fold seeds; each model trained on a share of each fold's training "
        "tracks (per composer, at least two; smaller shares nested in larger ones) and scored on all of the "
        "fold's held-out tracks; six 20 s windows per track, decided per track; features: timbre statistics, "
        "mix fingerprint, musicnn MSD penultimate."
    )
    (HERE / "results" / "gamemusic_learning_curve.json").write_text(
        json.dumps({"protocol": protocol, "results": results}, indent=2) + "\n", encoding="utf-8"
    )
    first = next(iter(results.values()))["curve"]
    lines = [
        "| model | " + " | ".join(f"{float(s):.0%} of training tracks" for s in first) + " |",
        "|---|" + "---|" * len(first),
        "| median training tracks per composer | "
        + " | ".join(f"{c['median_training_tracks_per_composer']:.0f}" for c in first.values())
        + " |",
    ]
    for name, result in results.items():
        cells = [f"{c['accuracy_mean']:.1%} ± {c['accuracy_std']:.1%}" for c in result["curve"].values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", protocol]
    (HERE / "results" / "gamemusic_learning_curve.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
