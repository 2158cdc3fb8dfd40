"""Model selection on the game-music set, measured honestly: nested cross-validation.

The README's best figures are the best of many models scored on the same folds that ranked them, so they
lean optimistic. Here each outer fold chooses among the models the README reports on the three feature
families (timbre statistics, mix fingerprint, musicnn MSD penultimate) by a 3-fold cross-validation of its
own training tracks, and the choice's verdicts on its held-out tracks are scored: the accuracy of "take the
best of these", against the best of them chosen afterwards. 8 composers with 8+ tracks, 111 tracks,
track-disjoint 5-fold CV over five fold seeds, six 20 s windows per track, decided per track.

    python benchmarks/gamemusic_nested_selection.py [--workspace DIR] [--seeds 5]

The product path is the same function: `sonicprint experiment ... --select-among models.toml`.

Writes benchmarks/results/gamemusic_nested_selection.{json,md}. Reads the feature cache of
`gamemusic_fingerprint.py` (about 40 minutes on 2 cores from a warm cache, most of it the MLP heads).
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

from sonicprint.config import ExperimentConfig, ModelConfig, SelectionConfig, SplitConfig
from sonicprint.selection import nested_selection

#: the models of the README's tables on these three families; the first is the run's own model
MODELS = (
    ModelConfig("lda", LDA, "late"),
    ModelConfig("lda", {}, "late"),
    ModelConfig("lda", LDA),
    ModelConfig("mlp", {}),
    ModelConfig("mlp", MINI_BATCH),
    ModelConfig("mlp", {**MINI_BATCH, "members": 3}),
)


def markdown(result: dict, protocol: str) -> str:  # type: ignore[type-arg]
    """The results table: each model's accuracy on the outer folds, its inner accuracy, how often the folds
    chose it, and the accuracy of their choices."""
    lines = [
        "| model | accuracy on the outer folds | mean inner accuracy | picked (of "
        f"{sum(result['times_picked'])} folds) |",
        "|---|---|---|---|",
    ]
    for k, name in enumerate(result["models"]):
        lines.append(
            f"| {name} | {result['model_accuracy_mean'][k]:.1%} ± {result['model_accuracy_std'][k]:.1%} | "
            f"{result['inner_accuracy_mean'][k]:.1%} | {result['times_picked'][k]} |"
        )
    best, optimism = result["best_afterwards"], 100 * result["optimism"]
    verdict = (
        f"it overstates the choosing by {optimism:.1f} points"
        if optimism > 0
        else f"the choosing scores {-optimism:.1f} points above it"
    )
    lines += [
        f"| **chosen by inner CV, fold by fold** | **{result['accuracy_mean']:.1%} ± "
        f"{result['accuracy_std']:.1%}** | | |",
        "",
        f"Best model chosen afterwards: {result['models'][best]}, {result['model_accuracy_mean'][best]:.1%}; "
        f"{verdict}. Per fold seed, the choosing: "
        + ", ".join(f"{a:.1%}" for a in result["accuracy"])
        + "; the best model chosen afterwards: "
        + ", ".join(f"{a:.1%}" for a in result["model_accuracy"][best])
        + ".",
        "",
        protocol,
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    args = benchmark_parser(__doc__).parse_args()
    table = composer_table(args.workspace, (STATS, MIX, MSD), workers=args.workers)
    config = ExperimentConfig(
        model=MODELS[0],
        split=SplitConfig(folds=5, repeats=args.seeds),
        per_window=True,
        selection=SelectionConfig(candidates=MODELS[1:], inner_folds=3),
    )
    began = time.perf_counter()
    result = nested_selection(table, config)
    result["seconds"] = round(time.perf_counter() - began, 1)
    protocol = (
        f"8 composers with >= 8 tracks, {len(table.labels)} tracks; outer: 5-fold CV, track-disjoint, "
        f"stratified, {args.seeds} fold seeds; each outer fold picks the model with the best accuracy in a "
        "3-fold CV of its own training tracks (track-disjoint, same seed), the first listed on a tie; six "
        "20 s windows per track, decided per track; features: timbre statistics, mix fingerprint, musicnn "
        "MSD penultimate."
    )
    (HERE / "results" / "gamemusic_nested_selection.json").write_text(
        json.dumps({"protocol": protocol, "result": result}, indent=2) + "\n", encoding="utf-8"
    )
    text = markdown(result, protocol)
    (HERE / "results" / "gamemusic_nested_selection.md").write_text(text, encoding="utf-8")
    print(text, end="")


if __name__ == "__main__":
    main()
