"""The robustness table of `sonicprint experiment --robustness` runs, side by side, as benchmark results.

Each run folder's `metrics.json` holds, per test-time condition, the track accuracy of the first split seed
(`robustness`) and of every seed (`repeats`, `robustness <condition>`); this reads them and writes one
column per run (mean ± std over the seeds), the worst drop from clean, and the run's wall time.

    python benchmarks/cli_robustness_table.py NAME --command "sonicprint experiment ..." \
        --run "trained on the tracks as they are=RUN1" --run "with 3 degraded copies=RUN2" \
        [--title TEXT] [--protocol TEXT] [--seeds N]

Writes benchmarks/results/NAME.{json,md}.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent


def read_run(folder: Path, seeds: int | None = None) -> dict[str, Any]:
    """One run's robustness figures: first seed, per seed, mean and std per condition, wall seconds.
    ``seeds``: only the first this many split seeds (to set runs of different lengths side by side)."""
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    if "robustness" not in metrics:
        raise SystemExit(f"{folder}: metrics.json has no robustness figures (run with --robustness)")
    conditions = list(metrics["robustness"])
    repeats = metrics.get("repeats", {})
    per_seed, mean, std = {}, {}, {}
    for name in conditions:
        key = f"robustness {name}"
        values = repeats[key] if key in repeats else [metrics["robustness"][name]["accuracy"]]
        per_seed[name] = values[:seeds] if seeds else values
        known = [v for v in per_seed[name] if v is not None]
        mean[name] = float(np.mean(known)) if known else None
        std[name] = float(np.std(known)) if known else None
    return {
        "split_seeds": len(next(iter(per_seed.values()), [])),
        "seed0": metrics["robustness"],
        "per_seed": per_seed,
        "mean": mean,
        "std": std,
        "seconds": metrics.get("seconds"),
        "model": metrics.get("model"),
        "features": metrics.get("extractor"),
    }


def table(runs: dict[str, dict[str, Any]]) -> list[str]:
    """The markdown table: a row per condition, a column per run, then each run's worst drop."""
    conditions = list(dict.fromkeys(c for run in runs.values() for c in run["mean"]))
    lines = ["| condition | " + " | ".join(runs) + " |", "|---|" + "---|" * len(runs)]
    for condition in conditions:
        cells = []
        for run in runs.values():
            m, s = run["mean"].get(condition), run["std"].get(condition)
            cells.append("–" if m is None else f"{m:.1%} ± {s:.1%}")
        lines.append(f"| {condition} | " + " | ".join(cells) + " |")
    drops = []
    for run in runs.values():
        clean = run["mean"].get("clean")
        others = [v for c, v in run["mean"].items() if c != "clean" and v is not None]
        drops.append("–" if clean is None or not others else f"{100 * (clean - min(others)):.1f}")
    lines.append("| worst drop from clean (points) | " + " | ".join(drops) + " |")
    lines.append("| split seeds | " + " | ".join(str(run["split_seeds"]) for run in runs.values()) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("name", help="results file name, without extension")
    parser.add_argument("--command", required=True, help="the command the runs were made with")
    parser.add_argument("--run", action="append", required=True, metavar="HEADING=FOLDER")
    parser.add_argument("--title", default="Robustness, measured by `sonicprint experiment --robustness`")
    parser.add_argument("--protocol", default="", help="a paragraph under the table")
    parser.add_argument("--seeds", type=int, help="only each run's first N split seeds")
    args = parser.parse_args()
    runs = {}
    for spec in args.run:
        heading, sep, folder = spec.partition("=")
        if not sep:
            raise SystemExit(f"--run {spec!r}: expected HEADING=FOLDER")
        runs[heading] = read_run(Path(folder).expanduser(), args.seeds)
    lines = [f"# {args.title}", "", f"    {args.command}", "", *table(runs)]
    if args.protocol:
        lines += ["", args.protocol]
    out = HERE / "results" / args.name
    out.with_suffix(".json").write_text(
        json.dumps({"command": args.command, "protocol": args.protocol, "runs": runs}, indent=1) + "\n",
        encoding="utf-8",
    )
    out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
