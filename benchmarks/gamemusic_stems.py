"""Timbre statistics of separated stems on the game-music set: which part of a track names its composer?

The same protocol as `gamemusic_fingerprint.py` (8 composers with 8+ tracks, 111 tracks, track-disjoint
5-fold CV over 5 fold seeds, shrinkage LDA with uniform priors trained per 20 s window and decided per
track), with the statistics computed on one stem of each window (`FeatureConfig.separate`): REPET-SIM's
non-repeating foreground ("vocals"; in this instrumental music, mostly the lead line) and repeating
backing, HPSS's harmonic and percussive parts, and the stereo side. The rows were fixed before the run.
Also measures the CPU time per track of each separator. Runs in its own workspace holding only the 111
tracks (REPET-SIM costs about 3.5 s per 20 s window on one core).

    python benchmarks/gamemusic_stems.py [--workspace DIR] [--seeds 5] [--workers 2]

Writes benchmarks/results/gamemusic_stems.{json,md}.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gamemusic import HERE, benchmark_parser, check_data, source_with_min_tracks
from gamemusic_fingerprint import LDA, MIX, STATS, evaluate_rows, results_table

from sonicprint.config import FeatureConfig, ModelConfig
from sonicprint.pipeline import Workspace, build_collection
from sonicprint.separation import SEPARATORS, parse_stem

VOCALS = replace(STATS, separate="repet_sim:vocals")
BACKING = replace(STATS, separate="repet_sim:backing")
SINGLE = ModelConfig("lda", LDA)
LATE = ModelConfig("lda", LDA, "late")

ROWS: list[tuple[str, tuple[FeatureConfig, ...], ModelConfig]] = [
    ("statistics of the full mix", (STATS,), SINGLE),
    ("statistics of REPET-SIM 'vocals' (non-repeating foreground)", (VOCALS,), SINGLE),
    ("statistics of REPET-SIM 'backing' (what repeats)", (BACKING,), SINGLE),
    ("statistics of the HPSS harmonic part", (replace(STATS, separate="hpss:harmonic"),), SINGLE),
    ("statistics of the HPSS percussive part", (replace(STATS, separate="hpss:percussive"),), SINGLE),
    ("statistics of the stereo side", (replace(STATS, separate="mid_side:side"),), SINGLE),
    ("full mix, vocals, backing: one LDA each, fused", (STATS, VOCALS, BACKING), LATE),
    ("full mix, mix fingerprint, vocals, backing: one LDA each, fused", (STATS, MIX, VOCALS, BACKING), LATE),
]


def separator_seconds(rate: int = 22050, seconds: float = 20.0, windows: int = 6) -> dict[str, float]:
    """CPU seconds (this process) to separate one track's windows (six 20 s windows of noise)."""
    y = np.random.default_rng(0).standard_normal(int(rate * seconds)).astype(np.float32) * 0.1
    out = {}
    for name in SEPARATORS.names():
        separator = SEPARATORS.get(name)()
        x = np.stack([y, y[::-1]]) if separator.channels == 2 else y
        began = time.process_time()
        separator.separate(x, sample_rate=rate)
        out[name] = windows * (time.process_time() - began)
    return out


def main() -> None:
    args = benchmark_parser(__doc__, workers=2).parse_args()
    if args.workspace == str(HERE / ".workspace"):
        args.workspace = str(HERE / ".workspace-stems")
    check_data()
    for _, configs, _ in ROWS:
        for config in configs:
            if config.separate:
                parse_stem(config.separate)  # fail before any work on a wrong name
    with Workspace(args.workspace) as ws:
        build_collection(ws, source_with_min_tracks(8), min_duration_s=10.0, progress=False)
        results = evaluate_rows(ws, ROWS, seeds=args.seeds, workers=args.workers)
    timing = separator_seconds()
    protocol = (
        f"8 composers with >= 8 tracks, 111 tracks; 5-fold CV, track-disjoint, stratified; mean ± std over "
        f"{args.seeds} fold seeds; timbre statistics (`track_stats`) of six 20 s windows, each window's stem "
        "separated on its own; shrinkage LDA with uniform priors, trained per window, decided per track."
    )
    out = {"protocol": protocol, "cpu_seconds_per_track": timing, "results": results}
    (HERE / "results" / "gamemusic_stems.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    lines = results_table(results)
    lines += [
        "",
        "CPU seconds to separate one track (six 20 s windows at 22.05 kHz, one process): "
        + ", ".join(f"{k} {v:.1f} s" for k, v in timing.items())
        + ".",
        "",
        protocol,
    ]
    (HERE / "results" / "gamemusic_stems.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
