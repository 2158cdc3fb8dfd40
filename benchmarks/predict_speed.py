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

import soundfile as sf
from _prediction import model_description, train_model, write_queries

from sonicprint.predict import predict_files

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", action="store_true", help="time the game-music recipe's model")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model_path = train_model(root, recipe=args.recipe)
        queries = write_queries(root / "queries", 6)
        predict_files(model_path, queries[:1])  # warm-up: imports, filterbanks
        predict_s, decode_s = [], []
        for path in queries:
            out = predict_files(model_path, [path])  # its .seconds excludes loading the model
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
            "model": model_description(args.recipe) + " (model loading excluded)",
        }
    name = "predict_speed_recipe.json" if args.recipe else "predict_speed.json"
    (HERE / "results" / name).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
