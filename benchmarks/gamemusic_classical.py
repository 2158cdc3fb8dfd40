"""Classical models on the game-music development set: composers with 8+ tracks, track-disjoint 5-fold.

Runs, in one go: the first study's method (MFCC matrix of one centred 30 s window -> PCA(12) -> KNN),
MFCC mean/std of that window with logistic regression, and whole-track statistics (MFCC, delta,
spectral contrast, chroma, spectral shape over six 20 s windows) with logistic regression and with
shrinkage LDA, and the same statistics per window with LDA trained on windows and deciding per track. Each is repeated over 5 seeds of the fold assignment; the within-game Naev subset (3
composers) is reported separately. Writes benchmarks/results/gamemusic_classical.{json,md}.

    python benchmarks/gamemusic_classical.py [--workspace DIR] [--seeds 5]
"""

from __future__ import annotations

import json
import sys
import time

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _gamemusic import HERE, NAEV_COMPOSERS, benchmark_parser, composer_source, repeated_cv

from sonicprint.config import CollectionConfig, FeatureConfig, ModelConfig
from sonicprint.features import seed_feature_config
from sonicprint.pipeline import Workspace, build_collection, extract_features, select_labels

SETTINGS = {
    "seed-1: MFCC matrix (30 s) -> PCA(12) -> KNN": (seed_feature_config(), ModelConfig("knn_pca")),
    "MFCC mean/std (30 s) -> logistic regression": (
        FeatureConfig(extractor="mfcc_stats", n_windows=1, window_s=30.0),
        ModelConfig("logreg"),
    ),
    "track statistics (6 x 20 s) -> logistic regression": (FeatureConfig(), ModelConfig("logreg")),
    "track statistics (6 x 20 s) -> shrinkage LDA": (FeatureConfig(), ModelConfig("lda")),
    "statistics per window (6 x 20 s) -> shrinkage LDA, decided per track": (
        FeatureConfig(),
        ModelConfig("lda"),
        True,
    ),
    "the same, uniform composer priors (`--model-param priors=uniform`)": (
        FeatureConfig(),
        ModelConfig("lda", {"priors": "uniform"}),
        True,
    ),
}


def main() -> None:
    args = benchmark_parser(__doc__).parse_args()
    collection = CollectionConfig(label="composer", group_columns=("game",), min_tracks_per_label=8)
    source = composer_source()
    results = {}
    with Workspace(args.workspace) as ws:
        build_collection(ws, source, min_duration_s=collection.min_duration_s, progress=False)
        for name, (features, model, *per_window) in SETTINGS.items():
            started = time.perf_counter()
            table = select_labels(
                extract_features(
                    ws, features, workers=args.workers, progress=False, per_window=bool(per_window)
                ),
                min_tracks=8,
            )
            extract_s = time.perf_counter() - started
            row = {
                "n_tracks": len(table.labels),
                "n_labels": len(set(table.labels)),
                "extract_s": round(extract_s, 1),
            }
            row["all"] = repeated_cv(table, model, seeds=args.seeds)
            row["naev"] = repeated_cv(table, model, seeds=args.seeds, labels=NAEV_COMPOSERS)
            results[name] = row
            print(
                f"{name}: {row['all']['accuracy_mean']:.3f} ± {row['all']['accuracy_std']:.3f} "
                f"(Naev {row['naev']['accuracy_mean']:.3f})",
                flush=True,
            )
    out = {
        "protocol": "composers with >= 8 tracks; 5-fold cross-validation, track-disjoint, stratified; "
        f"mean ± std over {args.seeds} fold seeds",
        "results": results,
    }
    (HERE / "results" / "gamemusic_classical.json").write_text(
        json.dumps(out, indent=2) + "\n", encoding="utf-8"
    )
    lines = [
        "| method | accuracy (8 composers, 111 tracks) | macro F1 | Naev subset accuracy (3 composers) |",
        "|---|---|---|---|",
    ]
    for name, row in results.items():
        a, n = row["all"], row["naev"]
        lines.append(
            f"| {name} | {a['accuracy_mean']:.1%} ± {a['accuracy_std']:.1%} | {a['macro_f1_mean']:.3f} | "
            f"{n['accuracy_mean']:.1%} ± {n['accuracy_std']:.1%} |"
        )
    chance = next(iter(results.values()))
    lines.append(
        f"\nChance (uniform): {chance['all']['chance_uniform']:.1%} for all, "
        f"{chance['naev']['chance_uniform']:.1%} for Naev. {out['protocol']}."
    )
    (HERE / "results" / "gamemusic_classical.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
