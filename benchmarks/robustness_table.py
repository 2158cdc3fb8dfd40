"""One table of every CNN result in benchmarks/results: track accuracy per test-time condition, per run.

    python benchmarks/robustness_table.py

Reads benchmarks/results/gamemusic_cnn_*.json (written by gamemusic_cnn.py) and writes
benchmarks/results/gamemusic_cnn_robustness.md.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def column_name(result: dict) -> str:  # type: ignore[type-arg]
    """A short heading: network, augmentation, planned epochs and where it ran."""
    train = result["config"]["train"]
    augment = result["augment"]
    if augment != "none" and not train["augment"]["codec_prob"]:
        augment += " (no MP3)"
    where = "GPU" if "NVIDIA" in result.get("device", "") else "CPU"
    seed = f", seed {train['seed']}" if train.get("seed") else ""
    return f"{result['network']}, {'augment ' + augment if augment != 'none' else 'plain'}, {train['epochs']} ep, {where}{seed}"


def main() -> None:
    results = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((HERE / "results").glob("gamemusic_cnn_*.json"))
    ]
    results = [r for r in results if "robustness" in r and len(r["robustness"]) > 1]
    results.sort(
        key=lambda r: (
            "NVIDIA" in r.get("device", ""),
            r["network"] != "wavenet",
            r["network"],
            r["config"]["train"]["epochs"],
            r["augment"] != "none",
        )
    )
    conditions = list(dict.fromkeys(c for r in results for c in r["robustness"]))
    lines = [
        "| condition | " + " | ".join(column_name(r) for r in results) + " |",
        "|---|" + "---|" * len(results),
    ]
    for condition in conditions:
        cells = [
            f"{r['robustness'][condition]:.1%}" if condition in r["robustness"] else "–" for r in results
        ]
        lines.append(f"| {condition} | " + " | ".join(cells) + " |")
    lines.append(
        "| seconds per epoch | " + " | ".join(f"{r['epoch_seconds_mean']:.2f}" for r in results) + " |"
    )
    lines.append(
        "\nTrack accuracy, 8 composers, 111 tracks, 5-fold track-disjoint. CPU: 2 cores, the original audio. "
        "GPU: one H100 (torch 2.11), reading an Opus 48 kbit/s copy of the same windows "
        "(benchmarks/pack_gamemusic.py) with the same folds; PyAV was not there, so no MP3 condition."
    )
    (HERE / "results" / "gamemusic_cnn_robustness.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
