"""Shared set-up of the prediction benchmarks: a model trained on a generated collection, and queries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from sonicprint.collection import read_manifest
from sonicprint.config import CollectionConfig, ExperimentConfig, FeatureConfig, ModelConfig, SplitConfig
from sonicprint.demo import generate_collection
from sonicprint.experiment import run_experiment
from sonicprint.synth import make_artists, make_producers, render_track

#: the README's game-music recipe: statistics, mix fingerprint and MSD_musicnn, one LDA each, late fusion
RECIPE = ("track_stats", "mix_stats", "musicnn_msd_penultimate")


def model_description(recipe: bool) -> str:
    if recipe:
        return "statistics, mix fingerprint, MSD_musicnn penultimate -> one LDA each, late fusion, per window"
    return "track statistics -> shrinkage LDA"


def train_model(root: Path, *, recipe: bool) -> Path:
    """The default classical model (or with ``recipe`` the recipe's), trained on 18 generated 30 s tracks
    of 3 producers under ``root``; returns the saved model's path."""
    extractors = RECIPE if recipe else ("track_stats",)
    made = generate_collection(
        root / "data",
        seed=0,
        producers=3,
        artists=2,
        tracks_per_pair=3,
        duration_s=30.0,
        queries=0,
        with_problems=False,
    )
    config = ExperimentConfig(
        collection=CollectionConfig(label="producer"),
        features=FeatureConfig(),
        extra_features=tuple(FeatureConfig(extractor=name) for name in extractors[1:]),
        split=SplitConfig(folds=3),
        model=ModelConfig("lda", {"priors": "uniform"}, "late") if recipe else ModelConfig("lda"),
        per_window=recipe,
        maps=(),
    )
    source = read_manifest(made.manifest, label="producer", audio_root=made.audio_root)
    return run_experiment(
        source, config, workspace=root / "ws", out_dir=root / "run", progress=False
    ).model_path


def write_queries(folder: Path, n: int, *, producers: int = 1) -> list[Path]:
    """``n`` new 30 s stereo recordings (FLAC and MP3 in turn) by ``producers`` producers, in ``folder``."""
    rng = np.random.default_rng(1)
    makers, artist = make_producers(rng, producers), make_artists(rng, 1)[0]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        stereo = render_track(
            makers[i % producers], artist, rng=np.random.default_rng([1, i]), duration_s=30.0
        ).T
        path = folder / f"q{i:03d}.{'flac' if i % 2 else 'mp3'}"
        sf.write(path, stereo, 22050, format="MP3" if path.suffix == ".mp3" else "FLAC")
        paths.append(path)
    return paths
