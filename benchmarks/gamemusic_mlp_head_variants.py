"""Ways to give the three MLP heads more to learn from, against the heads as they are (game-music set).

The reference is the best model of `gamemusic_mlp_head.py`: three MLP heads on the timbre statistics, mix
fingerprint and musicnn MSD embedding of six 20 s windows per track, decided per track, 111 tracks of the 8
composers with 8+ tracks, track-disjoint 5-fold CV over five fold seeds (the same folds). Each variant
changes one thing; the test tracks are always the six clean windows of each held-out track, except in the
twelve-window row, which hears twelve:

- **twelve 20 s windows per track** (240 s where the median track lasts 162 s), to train and to decide;
- **the other 45 composers as extra classes**: the 93 tracks of the composers with fewer than 8 tracks join
  every fold's training side under their own names (never a test side), and only the eight composers'
  probabilities are read at test, renormalised;
- **two mildly changed copies of each training track**: each window played up to half a semitone faster or
  slower (a resampling: pitch and tempo together), tilted by up to ±2.3 dB above 1 kHz and given ±3 dB of
  gain, drawn per window from the track's content hash, so every feature family hears the same copy;
- **twelve windows and the other composers together**, the two rows above that add training material
  without changing the audio, combined (added after they had been measured on these folds).

    python benchmarks/gamemusic_mlp_head_variants.py [--workspace DIR] [--seeds 5] [--workers N]

From the workspace's cached features the rows take about 50 minutes on 2 cores (the twelve-window and
mild-copy features, when not cached, about 11 and 7 more). Writes
benchmarks/results/gamemusic_mlp_head_variants.{json,md}.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gamemusic import HERE, NAEV_COMPOSERS, benchmark_parser, composer_source
from gamemusic_fingerprint import MIX, MSD, STATS

from sonicprint.config import ExperimentConfig, ModelConfig, SplitConfig
from sonicprint.deep.transforms import CONDITIONS, butterworth, gain, varispeed
from sonicprint.evaluation import evaluate
from sonicprint.experiment import evaluation_splits, training_rows
from sonicprint.models import create_model
from sonicprint.models.windows import fit_tracks, predict_windows, tracks_from_windows
from sonicprint.pipeline import FeatureTable, Workspace, build_collection, extract_feature_sets, select_labels

FAMILIES = (STATS, MIX, MSD)
HEADS = {"batch_size": 64, "epochs": 150, "lr": 0.001, "input_dropout": 0.2, "members": 3}
MILD_COPIES = ("mild copy 1", "mild copy 2")


def mild_change(audio: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Up to half a semitone faster or slower, a gentle tilt above 1 kHz and ±3 dB of gain."""
    state = rng.bit_generator.state
    draw = np.random.default_rng(int(rng.integers(2**63)))
    rng.bit_generator.state = state  # every channel of a window draws the same change
    out = varispeed(audio, semitones=float(draw.uniform(-0.5, 0.5)))
    tilt = float(draw.uniform(-0.3, 0.3))
    out = out + tilt * butterworth(out, sample_rate=sample_rate, cutoff_hz=1000, kind="highpass", order=2)
    return gain(out, db=float(draw.uniform(-3, 3)))


# At import, so that the feature workers (which import this script) know the copies by name too.
for _name in MILD_COPIES:
    if _name not in CONDITIONS:
        CONDITIONS.add(_name, mild_change)


def heads_probabilities(
    table: FeatureTable, seed: int, *, copies=(), extra: FeatureTable | None = None
) -> tuple[np.ndarray, list[str]]:
    """Out-of-fold track probabilities of the three heads for fold seed ``seed``: trained on each fold's
    training tracks, their ``copies``, and every track of ``extra`` under its own label (read out only
    over ``table``'s labels)."""
    labels = sorted(set(table.labels))
    every = labels + sorted(set(extra.labels) - set(labels)) if extra is not None else labels
    y = np.array([every.index(label) for label in table.labels])
    config = ExperimentConfig(model=ModelConfig("mlp", HEADS), split=SplitConfig(folds=5, seed=seed))
    probabilities = np.full((len(y), len(labels)), np.nan)
    for _, train, test in evaluation_splits(table, config):
        x, targets = training_rows(table, copies, train, y)
        if extra is not None:
            x = np.concatenate([x, extra.features])
            targets = np.concatenate([targets, [every.index(label) for label in extra.labels]])
        model = create_model("mlp", **HEADS)
        fit_tracks(model, x, targets, n_classes=len(every), per_window=True)
        windows = predict_windows(model, table.features[test])[..., : len(labels)]
        probabilities[test] = tracks_from_windows(windows / windows.sum(axis=-1, keepdims=True))
    return probabilities, labels


def scores(table: FeatureTable, seeds: int, **training) -> dict:  # type: ignore[no-untyped-def]
    accuracy, f1, naev = [], [], []
    for seed in range(seeds):
        probabilities, labels = heads_probabilities(table, seed, **training)
        estimate = [labels[i] for i in probabilities.argmax(1)]
        m = evaluate(table.labels, estimate, labels)
        accuracy.append(m["accuracy"])
        f1.append(m["macro"]["f1"])
        naev.append(float(np.mean([e == r for e, r in zip(estimate, table.labels) if r in NAEV_COMPOSERS])))
        print(f"  fold seed {seed}: {m['accuracy']:.3f}", flush=True)
    return {
        "accuracy_mean": float(np.mean(accuracy)),
        "accuracy_std": float(np.std(accuracy)),
        "accuracy_per_seed": accuracy,
        "macro_f1_mean": float(np.mean(f1)),
        "naev_tracks_accuracy_mean": float(np.mean(naev)),
    }


def main() -> None:
    args = benchmark_parser(__doc__).parse_args()

    def features(ws: Workspace, configs=FAMILIES, **options) -> FeatureTable:  # type: ignore[no-untyped-def]
        return extract_feature_sets(
            ws, configs, workers=args.workers, progress=False, per_window=True, **options
        )

    with Workspace(args.workspace) as ws:
        build_collection(ws, composer_source(), min_duration_s=10.0, progress=False)
        everyone = features(ws)
        table = select_labels(everyone, min_tracks=8)
        counts = Counter(everyone.labels)
        others = everyone.take([i for i, label in enumerate(everyone.labels) if counts[label] < 8])
        wanted = set(table.hashes)  # mild copies: the eight composers' tracks only
        twelve_everyone = features(ws, [replace(c, n_windows=12) for c in FAMILIES])
        twelve = select_labels(twelve_everyone, min_tracks=8)
        twelve_others = twelve_everyone.take(
            [i for i, label in enumerate(twelve_everyone.labels) if counts[label] < 8]
        )
        mild = [features(ws, condition=name, only=wanted) for name in MILD_COPIES]
    rows = [
        ("three heads as they are (reference, same run)", table, {}),
        ("twelve 20 s windows per track", twelve, {}),
        (f"the other {len(set(others.labels))} composers as extra classes", table, {"extra": others}),
        ("two mildly changed copies of each training track", table, {"copies": mild}),
        ("twelve windows and the other composers as extra classes", twelve, {"extra": twelve_others}),
    ]
    results = []
    for name, rows_table, training in rows:
        print(name, flush=True)
        began = time.perf_counter()
        results.append({"method": name, **scores(rows_table, args.seeds, **training)})
        results[-1]["seconds"] = round(time.perf_counter() - began, 1)
    protocol = (
        f"8 composers with >= 8 tracks, {len(table.labels)} tracks; 5-fold CV, track-disjoint, stratified, "
        f"the folds of gamemusic_mlp_head.py; mean ± std over {args.seeds} fold seeds; three MLP heads "
        "(batches of 64, 150 passes, lr 1e-3, input dropout 0.2) on timbre statistics, mix fingerprint and "
        "musicnn MSD penultimate per 20 s window, decided per track (mean window log-probability); tested "
        f"on clean audio. Extra classes: {len(others.labels)} tracks of {len(set(others.labels))} composers "
        "with fewer than 8 tracks, on the training side only."
    )
    (HERE / "results" / "gamemusic_mlp_head_variants.json").write_text(
        json.dumps({"protocol": protocol, "results": results}, indent=2) + "\n", encoding="utf-8"
    )
    lines = [
        "| variant | track accuracy | per fold seed | macro F1 | Naev tracks |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        per_seed = " / ".join(f"{a:.1%}" for a in r["accuracy_per_seed"])
        lines.append(
            f"| {r['method']} | {r['accuracy_mean']:.1%} ± {r['accuracy_std']:.1%} | {per_seed} "
            f"| {r['macro_f1_mean']:.3f} | {r['naev_tracks_accuracy_mean']:.1%} |"
        )
    lines += ["", protocol]
    (HERE / "results" / "gamemusic_mlp_head_variants.md").write_text(
        "\n".join(lines) + "\n", encoding="utf-8"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
