""" "Sounds like this composer" on the game-music set: how well `similar --maker` ranks unheard tracks.

For every fold of track-disjoint 5-fold CV (8 composers with 8+ tracks, 111 tracks, repeated over fold
seeds) a model is trained on the training tracks and each composer's centroid taken from their embeddings
(`models.maker_centroids`, as a saved model keeps it); every held-out track is scored by cosine similarity
to each centroid. Per composer, all 111 held-out scores are ranked and the ranking judged against who
really wrote each track: average precision (the area under its precision-recall curve; chance is the
composer's share of tracks) and precision among the top 5. The same is done with the classifier's own
probability of the composer in place of the similarity. Rows: the per-window statistics LDA and the full
recipe (statistics, mix fingerprint, musicnn embedding; one LDA each, late fusion).

    python benchmarks/gamemusic_maker_search.py [--workspace DIR] [--seeds 5]

Writes benchmarks/results/gamemusic_maker_search.{json,md}.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gamemusic import HERE, benchmark_parser, composer_source
from gamemusic_fingerprint import MIX, MSD, STATS

from sonicprint.config import ExperimentConfig, ModelConfig, SplitConfig
from sonicprint.experiment import build_model, evaluation_splits
from sonicprint.models import cosine_similarity, embed_tracks, fit_tracks, maker_centroids, predict_tracks
from sonicprint.pipeline import Workspace, build_collection, extract_feature_sets, select_labels

LDA = {"priors": "uniform"}
ROWS = [
    ("timbre statistics, LDA", (STATS,), ModelConfig("lda", LDA)),
    (
        "full recipe: statistics, mix, musicnn; one LDA each, late fusion",
        (STATS, MIX, MSD),
        ModelConfig("lda", LDA, "late"),
    ),
]


def average_precision(scores: np.ndarray, relevant: np.ndarray) -> float:
    """Mean of the precision at each relevant item's rank, items ranked by descending score."""
    order = np.argsort(-scores, kind="stable")
    hits = relevant[order]
    precision_at = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision_at[hits].mean())


def held_out_scores(table, model_config: ModelConfig, seed: int) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Every track's cosine similarity to each composer's centroid and the classifier's probability of
    each composer, from the fold that held it out: two ``(n_tracks, n_composers)`` arrays."""
    names = sorted(set(table.labels))
    y = np.array([names.index(lab) for lab in table.labels])
    config = ExperimentConfig(model=model_config, split=SplitConfig(folds=5, seed=seed), per_window=True)
    similarity = np.zeros((len(y), len(names)))
    probability = np.zeros((len(y), len(names)))
    for _, train, test in evaluation_splits(table, config):
        model = build_model(config, table)
        fit_tracks(model, table.features[train], y[train], n_classes=len(names), per_window=True)
        trained_on = embed_tracks(model, table.features[train], per_window=True)
        centroids = maker_centroids(trained_on, [table.labels[i] for i in train], names)
        held_out = embed_tracks(model, table.features[test], per_window=True)
        for k, centroid in enumerate(centroids):
            similarity[test, k] = cosine_similarity(centroid, held_out)
        probability[test] = predict_tracks(model, table.features[test], per_window=True)
    return similarity, probability


def retrieval(scores: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Mean over composers of average precision and of precision among the top 5."""
    ap, top5 = [], []
    for k in range(scores.shape[1]):
        relevant = y == k
        ap.append(average_precision(scores[:, k], relevant))
        top5.append(float(relevant[np.argsort(-scores[:, k], kind="stable")[:5]].mean()))
    return {"mean_average_precision": float(np.mean(ap)), "precision_at_5": float(np.mean(top5))}


def main() -> None:
    args = benchmark_parser(__doc__).parse_args()
    results = []
    with Workspace(args.workspace) as ws:
        build_collection(ws, composer_source(), min_duration_s=10.0, progress=False)
        for name, configs, model_config in ROWS:
            table = select_labels(
                extract_feature_sets(ws, configs, progress=False, per_window=True), min_tracks=8
            )
            names = sorted(set(table.labels))
            y = np.array([names.index(lab) for lab in table.labels])
            by_similarity, by_probability = [], []
            for seed in range(args.seeds):
                similarity, probability = held_out_scores(table, model_config, seed)
                by_similarity.append(retrieval(similarity, y))
                by_probability.append(retrieval(probability, y))
            row = {
                "method": name,
                "similarity": {k: float(np.mean([r[k] for r in by_similarity])) for k in by_similarity[0]},
                "probability": {k: float(np.mean([r[k] for r in by_probability])) for k in by_probability[0]},
                "chance_average_precision": float(np.mean([np.mean(y == k) for k in range(len(names))])),
            }
            results.append(row)
            print(json.dumps(row), flush=True)
    (HERE / "results" / "gamemusic_maker_search.json").write_text(
        json.dumps({"fold_seeds": args.seeds, "results": results}, indent=2) + "\n", encoding="utf-8"
    )
    lines = [
        "| model | ranked by | mean average precision | precision in the top 5 |",
        "|---|---|---|---|",
    ]
    for r in results:
        for how, label in (
            ("similarity", "cosine to the composer's centroid (`similar --maker`)"),
            ("probability", "the classifier's probability of the composer"),
        ):
            lines.append(
                f"| {r['method']} | {label} | {r[how]['mean_average_precision']:.3f} | {r[how]['precision_at_5']:.1%} |"
            )
    lines += [
        "",
        f"Per composer, the 111 tracks ranked by scores from the fold that held each out (track-disjoint "
        f"5-fold CV, mean over {args.seeds} fold seeds and the 8 composers); chance average precision "
        f"{results[0]['chance_average_precision']:.3f} (a composer's share of the tracks, on average).",
    ]
    (HERE / "results" / "gamemusic_maker_search.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
