"""Learning curve on the game-music set: does accuracy still climb with more training tracks per composer?

The two best models (the LDA recipe: one shrinkage LDA per family, fused; three MLP heads on the three
families concatenated) are trained on a share of each fold's training tracks (25%, 50%, 75%, all; per
composer, at least two tracks; each smaller share a subset of the larger, drawn per fold seed and fold)
and scored on the same held-out tracks as the full runs: 8 composers with 8+ tracks, 111 tracks,
track-disjoint 5-fold CV over five fold seeds, six 20 s windows per track, decided per track. If accuracy
still rises steeply at the full share, more tracks per composer are what the target needs; if it has
flattened, more of the same data will not get there.

    python benchmarks/gamemusic_learning_curve.py [--workspace DIR] [--seeds 5]

The product path is the same function: `sonicprint experiment ... --learning-curve 0.25,0.5,0.75`.

Writes benchmarks/results/gamemusic_learning_curve.{json,md}. Reads the feature cache of
`gamemusic_fingerprint.py` (about 20 minutes on 2 cores from a warm cache, most of it the MLP heads).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gamemusic import HERE, benchmark_parser, composer_table
from gamemusic_fingerprint import LDA, MIX, MSD, STATS
from gamemusic_mlp_head import MINI_BATCH

from sonicprint.config import ExperimentConfig, ModelConfig, SplitConfig
from sonicprint.experiment import learning_curve, repeated_evaluation

SHARES = (0.25, 0.5, 0.75)
MODELS = {
    "the LDA recipe (one LDA per family, fused)": ModelConfig("lda", LDA, "late"),
    "three MLP heads on the three families": ModelConfig("mlp", {**MINI_BATCH, "members": 3}),
}


def curve(table, model: ModelConfig, seeds: int) -> dict:  # type: ignore[no-untyped-def]
    """``sonicprint experiment --learning-curve 0.25,0.5,0.75 --repeats SEEDS`` on the table, from the cache."""
    config = ExperimentConfig(
        model=model, split=SplitConfig(folds=5, repeats=seeds), per_window=True, learning_curve=SHARES
    )
    whole = repeated_evaluation(table, config)["accuracy"]
    result = learning_curve(table, config, whole=whole)
    for seed, accuracies in zip(result["seeds"], zip(*result["accuracy"])):
        print(
            f"  seed {seed}: " + ", ".join(f"{s:.0%} {a:.3f}" for s, a in zip(result["shares"], accuracies))
        )
    return result


def main() -> None:
    args = benchmark_parser(__doc__).parse_args()
    table = composer_table(args.workspace, (STATS, MIX, MSD), workers=args.workers)
    results = {}
    for name, model in MODELS.items():
        began = time.perf_counter()
        print(name, flush=True)
        results[name] = {"curve": curve(table, model, args.seeds)}
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
        "| model | " + " | ".join(f"{s:.0%} of training tracks" for s in first["shares"]) + " |",
        "|---|" + "---|" * len(first["shares"]),
        "| median training tracks per composer | "
        + " | ".join(f"{n:.0f}" for n in first["median_training_tracks_per_label"])
        + " |",
    ]
    for name, result in results.items():
        c = result["curve"]
        cells = [f"{m:.1%} ± {s:.1%}" for m, s in zip(c["accuracy_mean"], c["accuracy_std"])]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", protocol]
    (HERE / "results" / "gamemusic_learning_curve.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
