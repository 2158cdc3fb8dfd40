"""Shared helpers for the benchmarks on the game-music development set (../shared/data/gamemusic)."""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = Path(
    os.environ.get(
        "GAMEMUSIC_MANIFEST", HERE.parent.parent / "shared" / "data" / "gamemusic" / "manifest.csv"
    )
)
AUDIO_ROOT = Path(os.environ.get("GAMEMUSIC_ROOT", Path.home() / ".cache" / "gamemusic")) / "audio"
NAEV_COMPOSERS = ("Nikola Whallon", "Ken Seguro", "Askyel")


def check_data() -> None:
    if not MANIFEST.is_file() or not AUDIO_ROOT.is_dir():
        raise SystemExit(
            f"game-music set not found (manifest {MANIFEST}, audio {AUDIO_ROOT}); build it with "
            "../shared/data/gamemusic/build.sh or set GAMEMUSIC_MANIFEST / GAMEMUSIC_ROOT"
        )


def repeated_cv(table, model, *, seeds: int = 5, folds: int = 5, labels=None) -> dict:  # type: ignore[no-untyped-def]
    """Track-disjoint ``folds``-fold CV of ``model`` (a ModelConfig) repeated over fold seeds."""
    import numpy as np

    from sonicprint.config import ExperimentConfig, SplitConfig
    from sonicprint.evaluation import evaluate
    from sonicprint.experiment import cross_validate
    from sonicprint.pipeline import select_labels

    sub = select_labels(table, min_tracks=8, labels=labels)
    accs, f1s = [], []
    for seed in range(seeds):
        config = ExperimentConfig(model=model, split=SplitConfig(folds=folds, seed=seed))
        proba, _, names, _ = cross_validate(sub, config)
        m = evaluate(sub.labels, [names[i] for i in proba.argmax(1)], names)
        accs.append(m["accuracy"])
        f1s.append(m["macro"]["f1"])
    return {
        "n_tracks": len(sub.labels),
        "n_labels": len(set(sub.labels)),
        "chance_uniform": 1 / len(set(sub.labels)),
        "accuracy_mean": float(np.mean(accs)),
        "accuracy_std": float(np.std(accs)),
        "macro_f1_mean": float(np.mean(f1s)),
        "accuracy_per_seed": accs,
    }


def source_with_min_tracks(min_tracks: int = 8, group_columns=("game",)):  # type: ignore[no-untyped-def]
    """The manifest's tracks of composers with at least ``min_tracks`` tracks (label: composer)."""
    from collections import Counter

    from sonicprint.collection import read_manifest
    from sonicprint.collection.sources import CollectionSource

    source = read_manifest(
        MANIFEST, label="composer", group_columns=list(group_columns), audio_root=AUDIO_ROOT
    )
    counts = Counter(t.label for t in source.tracks)
    kept = [t for t in source.tracks if counts[t.label] >= min_tracks]
    return CollectionSource(kept, source.problems, source.label, source.group_columns, source.origin)


def benchmark_parser(doc: str | None, *, workers: int = 0):  # type: ignore[no-untyped-def]
    """The options every game-music benchmark takes: ``--workspace``, ``--seeds`` (fold seeds) and
    ``--workers``."""
    import argparse

    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0] if doc else None)
    parser.add_argument("--workspace", default=str(HERE / ".workspace"))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=workers)
    return parser


def composer_source():  # type: ignore[no-untyped-def]
    """Every track of the manifest, labelled by composer, grouped by game (after :func:`check_data`)."""
    from sonicprint.collection import read_manifest

    check_data()
    return read_manifest(MANIFEST, label="composer", group_columns=["game"], audio_root=AUDIO_ROOT)


def composer_table(workspace, feature_sets, *, workers: int = 0, min_tracks: int = 8):  # type: ignore[no-untyped-def]
    """Per-window features of the composers with ``min_tracks``+ tracks (10 s or longer), from the
    workspace's cache: the table the recipe's benchmarks train on."""
    from sonicprint.pipeline import Workspace, build_collection, extract_feature_sets, select_labels

    with Workspace(workspace) as ws:
        build_collection(ws, composer_source(), min_duration_s=10.0, progress=False)
        table = extract_feature_sets(ws, feature_sets, workers=workers, progress=False, per_window=True)
    return select_labels(table, min_tracks=min_tracks)
