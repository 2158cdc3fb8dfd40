"""Seconds to predict one 30 s file with a loaded model, next to the bare decode of the same file.

Trains the default classical model (track statistics -> shrinkage LDA) on a small generated collection,
writes 30 s query files (FLAC and MP3, stereo), loads the model once, and times ``predict_files`` per
file against a plain soundfile decode of the same file in the same run. ``--recipe``: the README's game-music
recipe instead (statistics, mix fingerprint and MSD_musicnn embedding, one LDA each, late fusion, decided
per window), whose three feature sets share one decoding of each window.

    python benchmarks/predict_speed.py [--recipe]

Writes benchmarks/results/predict_speed.json (predict_speed_recipe.json with ``--recipe``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from sonicprint.collection import read_manifest
from sonicprint.config import CollectionConfig, ExperimentConfig, FeatureConfig, ModelConfig, SplitConfig
from sonicprint.demo import generate_collection
from sonicprint.experiment import run_experiment
from sonicprint.predict import predict_files
from sonicprint.synth import make_artists, make_producers, render_track

HERE = Path(__file__).resolve().parent


RECIPE = ("track_stats", "mix_stats", "musicnn_msd_penultimate")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", action="store_true", help="time the game-music recipe's model")
    args = parser.parse_args()
    extractors = RECIPE if args.recipe else ("track_stats",)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
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
            model=ModelConfig("lda", {"priors": "uniform"}, "late") if args.recipe else ModelConfig("lda"),
            per_window=args.recipe,
            maps=(),
        )
        source = read_manifest(made.manifest, label="producer", audio_root=made.audio_root)
        result = run_experiment(source, config, workspace=root / "ws", out_dir=root / "run", progress=False)
        rng = np.random.default_rng(1)
        producer, artist = make_producers(rng, 1)[0], make_artists(rng, 1)[0]
        queries = []
        for i in range(6):
            stereo = render_track(producer, artist, rng=np.random.default_rng([1, i]), duration_s=30.0).T
            path = root / f"q{i}.{'flac' if i % 2 else 'mp3'}"
            sf.write(path, stereo, 22050, format="MP3" if path.suffix == ".mp3" else "FLAC")
            queries.append(path)
        predict_files(result.model_path, queries[:1])  # warm-up: imports, filterbanks
        predict_s, decode_s = [], []
        for path in queries:
            out = predict_files(result.model_path, [path])  # its .seconds excludes loading the model
            t1 = time.perf_counter()
            sf.read(path, dtype="float32")
            t2 = time.perf_counter()
            assert out[0].error is None
            predict_s.append(out[0].seconds)
            decode_s.append(t2 - t1)
        figures = {
            "predict_seconds_per_30s_file_median": round(statistics.median(predict_s), 4),
            "bare_decode_seconds_per_30s_file_median": round(statistics.median(decode_s), 4),
            "ratio_predict_to_decode": round(statistics.median(predict_s) / statistics.median(decode_s), 2),
            "model": (
                "statistics, mix fingerprint, MSD_musicnn penultimate -> one LDA each, late fusion, per window"
                if args.recipe
                else "track statistics -> shrinkage LDA"
            )
            + " (model loading excluded)",
        }
    name = "predict_speed_recipe.json" if args.recipe else "predict_speed.json"
    (HERE / "results" / name).write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
