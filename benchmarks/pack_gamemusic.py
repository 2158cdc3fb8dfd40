"""Pack the CNN benchmark's audio into a small copy of the game-music set, for a machine it cannot travel to.

    python benchmarks/pack_gamemusic.py OUT_DIR [--bitrate 48k] [--n-windows 3] [--window 20]

For each usable track of a composer with 8+ tracks (as the benchmark workspace's collection has them),
the windows ``gamemusic_cnn.py`` reads are decoded and laid out in one Ogg Opus file, padded with silence
so that the same window placement finds exactly those windows again. ``OUT_DIR/manifest.csv`` keeps the
composer and game, plus a ``track`` column with the original file's content hash: grouping by it
(``gamemusic_cnn.py --group track``) reproduces the original folds. The copy is lossy (Opus at
``--bitrate``); the source is 22.05 kHz, so nothing above 12 kHz is lost to the 24 kHz Opus rate.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gamemusic import HERE, check_data, source_with_min_tracks

from sonicprint.collection import OK
from sonicprint.config import CollectionConfig, FeatureConfig
from sonicprint.features.spectral import spread_windows
from sonicprint.pipeline import Workspace, build_collection, decode_windows


def packed_layout(n_windows: int, window_s: float) -> tuple[float, list[float]]:
    """Length of a packed file and where its windows start, so ``spread_windows`` finds them again."""
    # spread_windows starts window k at (length - window) * (k + 0.5) / n; windows touch when
    # (length - window) / n == window, i.e. length = (n + 1) * window.
    length = (n_windows + 1) * window_s
    starts = [start for start, _ in spread_windows(length, n_windows=n_windows, window_s=window_s)]
    return length, starts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--bitrate", default="48k")
    parser.add_argument("--n-windows", type=int, default=3)
    parser.add_argument("--window", type=float, default=20.0)
    parser.add_argument("--workspace", default=str(HERE / ".workspace"))
    args = parser.parse_args()
    check_data()
    audio_config = FeatureConfig(extractor="logmel", n_windows=args.n_windows, window_s=args.window)
    rate = audio_config.sample_rate
    length_s, starts = packed_layout(args.n_windows, args.window)
    (args.out_dir / "audio").mkdir(parents=True, exist_ok=True)
    with Workspace(args.workspace) as ws:
        build_collection(
            ws, source_with_min_tracks(8), min_duration_s=CollectionConfig().min_duration_s, progress=True
        )
        rows = ws.store.tracks(status=OK)
    counts = Counter(r.label for r in rows)
    rows = [r for r in rows if counts[r.label] >= 8]
    with (args.out_dir / "manifest.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "composer", "game", "track"])
        for number, row in enumerate(rows):
            windows = decode_windows(row.path, audio_config, float(row.duration_s or 0.0))
            packed = np.zeros(round(length_s * rate), dtype=np.float32)
            for start, window in zip(starts, windows):
                at = round(start * rate)
                packed[at : at + len(window)] = window
            name = f"{number:03d}.opus"  # relative to GAMEMUSIC_ROOT/audio
            subprocess.run(
                ["ffmpeg", "-v", "error", "-y", "-f", "f32le", "-ar", str(rate), "-ac", "1", "-i", "pipe:",
                 "-ar", "24000", "-c:a", "libopus", "-b:a", args.bitrate, "-f", "ogg",
                 str(args.out_dir / "audio" / name)],
                input=packed.tobytes(),
                check=True,
            )  # fmt: skip
            writer.writerow([name, row.label, row.groups.get("game", ""), row.content_hash])
    size = sum(p.stat().st_size for p in (args.out_dir / "audio").iterdir())
    print(f"{len(rows)} tracks, {size / 2**20:.1f} MiB in {args.out_dir}")


if __name__ == "__main__":
    main()
