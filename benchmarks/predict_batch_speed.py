"""Files per second when a batch is attributed on worker processes, against one process, same run.

Trains the default classical model (track statistics -> shrinkage LDA) on a small generated collection
(``--recipe``: the README's game-music recipe, statistics, mix fingerprint and MSD_musicnn, one LDA each,
late fusion, decided per window), writes ``--files`` 30 s stereo queries (FLAC and MP3), then times
``predict_to_csv`` over all of them with ``workers=1`` and with one worker per core, each into a fresh
results file. The clock runs from the call to its return: loading the model, starting the workers
(each loads the model once) and writing every row are all inside it. The two results files must hold the
same verdicts.

    python benchmarks/predict_batch_speed.py [--recipe] [--files 24]

Writes benchmarks/results/predict_batch_speed.json (predict_batch_speed_recipe.json with ``--recipe``).
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from pathlib import Path

from _prediction import model_description, train_model, write_queries

from sonicprint.executors import default_workers
from sonicprint.predict import predict_to_csv

HERE = Path(__file__).resolve().parent


def _verdicts(path: Path) -> dict[str, tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["path"]: (row["verdict"], row["top"]) for row in csv.DictReader(handle)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", action="store_true", help="time the game-music recipe's model")
    parser.add_argument("--files", type=int, default=24, help="30 s queries in the batch (default 24)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model_path = train_model(root, recipe=args.recipe)
        queries = [str(path) for path in write_queries(root / "queries", args.files, producers=3)]
        seconds = {}
        workers = default_workers()
        for name, count in (("one_process", 1), ("workers", workers)):
            out = root / f"{name}.csv"
            started = time.perf_counter()
            done = predict_to_csv(model_path, queries, out, workers=count)
            seconds[name] = time.perf_counter() - started
            assert done.predicted == len(queries) and done.errors == 0
        assert _verdicts(root / "one_process.csv") == _verdicts(root / "workers.csv")
        figures = {
            "files": len(queries),
            "workers": workers,
            "one_process_files_per_second": round(len(queries) / seconds["one_process"], 2),
            "workers_files_per_second": round(len(queries) / seconds["workers"], 2),
            "speedup_workers_to_one_process": round(seconds["one_process"] / seconds["workers"], 2),
            "model": model_description(args.recipe) + " (model loading and worker start included)",
        }
    name = "predict_batch_speed_recipe.json" if args.recipe else "predict_batch_speed.json"
    (HERE / "results" / name).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
