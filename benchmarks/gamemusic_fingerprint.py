"""The mix fingerprint (`mix_stats`) and late fusion of feature sets on the game-music development set.

Every row is trained on each of six 20 s windows and decides per track (mean window log-probability),
shrinkage LDA with uniform composer priors, track-disjoint 5-fold CV over the 111 tracks of the 8
composers with 8+ tracks, repeated over fold seeds (the folds of `gamemusic_classical.py`). The rows were
fixed before this run; the last one is the full model (one LDA per feature family: timbre statistics, mix
fingerprint, musicnn embedding, fused), and the one the README quotes. Naev is reported twice: a model of
its 3 composers alone (one game, so no game's mastering to lean on), and the 8-composer model's accuracy
on their tracks. Also measures the CPU time per track (one thread) of the mix fingerprint.

    python benchmarks/gamemusic_fingerprint.py [--workspace DIR] [--seeds 5]

Writes benchmarks/results/gamemusic_fingerprint.{json,md}.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gamemusic import HERE, NAEV_COMPOSERS, benchmark_parser, composer_source

from sonicprint.config import ExperimentConfig, FeatureConfig, ModelConfig, SplitConfig
from sonicprint.evaluation import evaluate
from sonicprint.experiment import cross_validate
from sonicprint.pipeline import Workspace, build_collection, extract_feature_sets, select_labels

STATS = FeatureConfig()
MIX = replace(STATS, extractor="mix_stats")
MSD = replace(STATS, extractor="musicnn_msd_penultimate")
LDA = {"priors": "uniform"}

ROWS: list[tuple[str, tuple[FeatureConfig, ...], ModelConfig]] = [
    ("timbre statistics (`track_stats`)", (STATS,), ModelConfig("lda", LDA)),
    ("mix fingerprint (`mix_stats`)", (MIX,), ModelConfig("lda", LDA)),
    ("musicnn MSD penultimate", (MSD,), ModelConfig("lda", LDA)),
    ("statistics + mix, concatenated (early fusion)", (STATS, MIX), ModelConfig("lda", LDA)),
    ("statistics, mix: one LDA each, fused (late fusion)", (STATS, MIX), ModelConfig("lda", LDA, "late")),
    (
        "statistics, mix, musicnn: one LDA each, fused (late fusion)",
        (STATS, MIX, MSD),
        ModelConfig("lda", LDA, "late"),
    ),
    (
        "the same, empirical composer priors",
        (STATS, MIX, MSD),
        ModelConfig("lda", {}, "late"),
    ),
]


def cv(table, model: ModelConfig, seeds: int, labels=None) -> dict:  # type: ignore[no-untyped-def]
    """Repeated track-disjoint 5-fold CV; accuracy, macro F1, the Naev tracks' accuracy, pooled confusion."""
    sub = select_labels(table, min_tracks=8, labels=labels)
    accuracy, f1, naev = [], [], []
    confusion = None
    for seed in range(seeds):
        config = ExperimentConfig(model=model, split=SplitConfig(folds=5, seed=seed), per_window=True)
        proba, _, names, _ = cross_validate(sub, config)
        estimate = [names[i] for i in proba.argmax(1)]
        m = evaluate(sub.labels, estimate, names)
        accuracy.append(m["accuracy"])
        f1.append(m["macro"]["f1"])
        on_naev = [e == r for e, r in zip(estimate, sub.labels) if r in NAEV_COMPOSERS]
        naev.append(float(np.mean(on_naev)))
        confusion = np.array(m["confusion"]) + (0 if confusion is None else confusion)
    return {
        "n_tracks": len(sub.labels),
        "labels": names,
        "accuracy_mean": float(np.mean(accuracy)),
        "accuracy_std": float(np.std(accuracy)),
        "accuracy_per_seed": accuracy,
        "macro_f1_mean": float(np.mean(f1)),
        "naev_tracks_accuracy_mean": float(np.mean(naev)),
        "confusion_over_seeds": confusion.tolist() if confusion is not None else [],
    }


def evaluate_rows(ws: Workspace, rows, *, seeds: int, workers: int) -> list[dict]:  # type: ignore[no-untyped-def]
    """Each row's repeated CV on all 8 composers and on Naev alone, printed as it finishes."""
    results = []
    for name, configs, model in rows:
        began = time.perf_counter()
        table = select_labels(
            extract_feature_sets(ws, configs, workers=workers, progress=False, per_window=True), min_tracks=8
        )
        row = {
            "method": name,
            "features": [c.spec for c in configs],
            "model": {"name": model.name, "params": dict(model.params), "fusion": model.fusion},
            "all": cv(table, model, seeds),
            "naev_alone": cv(table, model, seeds, labels=NAEV_COMPOSERS),
            "seconds": 0.0,
        }
        row["seconds"] = round(time.perf_counter() - began, 1)
        results.append(row)
        a, n = row["all"], row["naev_alone"]
        print(
            f"{name}: {a['accuracy_mean']:.3f} ± {a['accuracy_std']:.3f} (F1 {a['macro_f1_mean']:.3f}; "
            f"Naev tracks {a['naev_tracks_accuracy_mean']:.3f}; Naev alone {n['accuracy_mean']:.3f}) "
            f"[{row['seconds']:.0f} s]",
            flush=True,
        )
    return results


def results_table(results: list[dict]) -> list[str]:
    """The markdown table of :func:`evaluate_rows`' results."""
    lines = [
        "| method | track accuracy | macro F1 | Naev tracks | Naev alone (3 composers) |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        a, n = r["all"], r["naev_alone"]
        lines.append(
            f"| {r['method']} | {a['accuracy_mean']:.1%} ± {a['accuracy_std']:.1%} | {a['macro_f1_mean']:.3f} "
            f"| {a['naev_tracks_accuracy_mean']:.1%} | {n['accuracy_mean']:.1%} ± {n['accuracy_std']:.1%} |"
        )
    return lines


def run_rows_and_write(doc: str | None, rows, name: str, protocol: Callable[[int], str]) -> None:  # type: ignore[no-untyped-def]
    """A benchmark made only of rows: parse the usual options, evaluate ``rows``, and write
    ``results/{name}.json`` and ``.md`` (the table, then ``protocol(seeds)``)."""
    args = benchmark_parser(doc).parse_args()
    with Workspace(args.workspace) as ws:
        build_collection(ws, composer_source(), min_duration_s=10.0, progress=False)
        results = evaluate_rows(ws, rows, seeds=args.seeds, workers=args.workers)
    text = protocol(args.seeds)
    (HERE / "results" / f"{name}.json").write_text(
        json.dumps({"protocol": text, "results": results}, indent=2) + "\n", encoding="utf-8"
    )
    lines = [*results_table(results), "", text]
    (HERE / "results" / f"{name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def mix_seconds_per_track(paths: list[str], n: int = 10) -> dict[str, float]:
    """Median CPU seconds (this process, one thread) to decode and compute each feature set of a track."""
    from sonicprint.pipeline import compute_file_features

    out = {}
    for config in (STATS, MIX):
        times = []
        for path in paths[:n]:
            began = time.process_time()
            compute_file_features(path, config, per_window=True)
            times.append(time.process_time() - began)
        out[config.extractor] = float(np.median(times))
    return out


def main() -> None:
    args = benchmark_parser(__doc__).parse_args()
    source = composer_source()
    with Workspace(args.workspace) as ws:
        build_collection(ws, source, min_duration_s=10.0, progress=False)
        results = evaluate_rows(ws, ROWS, seeds=args.seeds, workers=args.workers)
        paths = select_labels(
            extract_feature_sets(ws, (STATS,), progress=False, per_window=True), min_tracks=8
        ).paths
    timing = mix_seconds_per_track(paths)
    protocol = (
        f"8 composers with >= 8 tracks, 111 tracks; 5-fold CV, track-disjoint, stratified; mean ± std over "
        f"{args.seeds} fold seeds; trained on each of six 20 s windows, decided per track; shrinkage LDA, "
        "uniform composer priors unless stated. 'Naev alone': a model of the 3 Naev composers only (one "
        "game); 'Naev tracks': the 8-composer model on their tracks."
    )
    out = {"protocol": protocol, "cpu_seconds_per_track": timing, "results": results}
    (HERE / "results" / "gamemusic_fingerprint.json").write_text(
        json.dumps(out, indent=2) + "\n", encoding="utf-8"
    )
    lines = results_table(results)
    full = results[-2]["all"]
    lines += [
        "",
        f"Confusion of the full model (rows: true composer, columns: predicted), summed over {args.seeds} "
        "fold seeds:",
        "",
        "| | " + " | ".join(name.split()[-1] for name in full["labels"]) + " |",
        "|---|" + "---|" * len(full["labels"]),
    ]
    for label, counts in zip(full["labels"], full["confusion_over_seeds"]):
        lines.append(f"| {label} | " + " | ".join(str(c) for c in counts) + " |")
    lines += [
        "",
        f"CPU time per track (decode + features of six 20 s windows, one thread, median of 10 tracks): "
        f"statistics {timing['track_stats']:.2f} s, mix fingerprint {timing['mix_stats']:.2f} s.",
        "",
        protocol,
    ]
    (HERE / "results" / "gamemusic_fingerprint.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
