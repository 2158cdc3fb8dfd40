"""musicnn embeddings (torch port) vs classical statistics vs both, on the game-music development set.

Composers with 8+ tracks, track-disjoint 5-fold CV repeated over 5 fold seeds; the within-game Naev
subset separately. Each track is read in the same six 20 s windows; musicnn summarises its 3 s patches
by mean and std. Also measures the CPU time per track (one thread) of the torch forward pass and of the
classical statistics. Writes benchmarks/results/gamemusic_musicnn.{json,md}.

    python benchmarks/gamemusic_musicnn.py [--workspace DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gamemusic import HERE, NAEV_COMPOSERS, check_data, repeated_cv, source_with_min_tracks

from sonicprint.config import FeatureConfig, ModelConfig
from sonicprint.pipeline import Workspace, build_collection, decode_windows, extract_feature_sets

STATS = FeatureConfig()
MSD = replace(STATS, extractor="musicnn_msd_penultimate")
MTT = replace(STATS, extractor="musicnn_mtt_penultimate")
MSD_POOL = replace(STATS, extractor="musicnn_msd_pool")
MTT_POOL = replace(STATS, extractor="musicnn_mtt_pool")

RUNS = [
    ("track statistics", (STATS,), ("lda", "logreg")),
    ("musicnn MSD penultimate (200-d)", (MSD,), ("lda", "logreg", "mlp")),
    ("musicnn MTT penultimate (200-d)", (MTT,), ("lda", "logreg", "mlp")),
    ("musicnn MSD pooled (753-d)", (MSD_POOL,), ("lda", "logreg")),
    ("musicnn MTT pooled (753-d)", (MTT_POOL,), ("lda", "logreg")),
    ("statistics + MSD penultimate", (STATS, MSD), ("lda", "logreg", "mlp")),
    ("statistics + MSD + MTT penultimate", (STATS, MSD, MTT), ("lda", "logreg", "mlp")),
    # trained on each 20 s window, decided per track by the mean window log-probability
    ("statistics + MSD penultimate, per window", (STATS, MSD), ("lda", "logreg"), True),
]


def cpu_seconds_per_track(paths: list[str], durations: dict[str, float]) -> dict[str, float]:
    """Median CPU seconds (one thread) per track for the statistics and for musicnn's parts."""
    import numpy as np
    import torch

    from sonicprint.features import create_extractor
    from sonicprint.pretrained.musicnn import embed_patches, load_musicnn, musicnn_input

    torch.set_num_threads(1)
    load_musicnn("MSD_musicnn")
    stats, decode16, forward = [], [], []
    extractor = create_extractor(STATS)
    for path in paths:
        t0 = time.process_time()
        extractor.compute(decode_windows(path, STATS, durations[path]))
        t1 = time.process_time()
        clips = decode_windows(path, MSD, durations[path])
        t2 = time.process_time()
        embed_patches(np.concatenate([musicnn_input(c) for c in clips]), variant="MSD_musicnn")
        t3 = time.process_time()
        stats.append(t1 - t0)
        decode16.append(t2 - t1)
        forward.append(t3 - t2)
    return {
        "statistics_s": float(np.median(stats)),
        "musicnn_decode_s": float(np.median(decode16)),
        "musicnn_input_and_forward_s": float(np.median(forward)),
        "audio_s_per_track": 120.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default=str(HERE / ".workspace"))
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    check_data()
    results = []
    with Workspace(args.workspace) as ws:
        build_collection(ws, source_with_min_tracks(8), min_duration_s=10.0, progress=False)
        durations = {t.path: float(t.duration_s or 0) for t in ws.store.tracks()}
        for name, configs, models, *per_window in RUNS:
            started = time.perf_counter()
            table = extract_feature_sets(ws, configs, progress=False, per_window=bool(per_window))
            for model in models:
                row = {
                    "features": name,
                    "model": model,
                    "dim": int(table.features.shape[-1] if table.per_window else table.features[0].size),
                    "all": repeated_cv(table, ModelConfig(model), seeds=args.seeds),
                    "naev": repeated_cv(table, ModelConfig(model), seeds=args.seeds, labels=NAEV_COMPOSERS),
                }
                results.append(row)
                print(
                    f"{name} / {model}: {row['all']['accuracy_mean']:.3f} ± {row['all']['accuracy_std']:.3f} "
                    f"(Naev {row['naev']['accuracy_mean']:.3f}) [{time.perf_counter() - started:.0f} s]",
                    flush=True,
                )
        sample = sorted(durations)[::12][:8]
        timing = cpu_seconds_per_track(sample, durations)
    out = {
        "protocol": "composers with >= 8 tracks (8 composers, 111 tracks); 5-fold CV, track-disjoint, "
        f"stratified; mean ± std over {args.seeds} fold seeds; six 20 s windows per track",
        "results": results,
        "cpu_time_per_track": timing,
    }
    (HERE / "results" / "gamemusic_musicnn.json").write_text(
        json.dumps(out, indent=2) + "\n", encoding="utf-8"
    )
    lines = ["| features | model | dims | accuracy | macro F1 | Naev accuracy |", "|---|---|---|---|---|---|"]
    for r in results:
        a, n = r["all"], r["naev"]
        lines.append(
            f"| {r['features']} | {r['model']} | {r['dim']} | {a['accuracy_mean']:.1%} ± {a['accuracy_std']:.1%} "
            f"| {a['macro_f1_mean']:.3f} | {n['accuracy_mean']:.1%} ± {n['accuracy_std']:.1%} |"
        )
    lines.append(f"\n{out['protocol']}.")
    lines.append(
        f"\nCPU time per track (120 s of audio, one thread, median of {len(sample)} tracks): classical "
        f"statistics {timing['statistics_s']:.2f} s; musicnn decode at 16 kHz {timing['musicnn_decode_s']:.2f} s "
        f"+ input and torch forward {timing['musicnn_input_and_forward_s']:.2f} s."
    )
    (HERE / "results" / "gamemusic_musicnn.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
