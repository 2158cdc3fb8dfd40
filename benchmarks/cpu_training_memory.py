"""CPU training with freed memory kept for reuse (the default) against giving it back to the system.

Each network the registry holds trains for a few epochs on the same synthetic clips (``train_network``,
10 s clips, batch 32, a fixed learning rate, no augmentation), once per setting, each in a fresh process
(the allocator setting lasts for a process). Prints the median seconds per epoch, the ratio against giving
memory back measured in the same run, and each process's peak resident memory.

    python benchmarks/cpu_training_memory.py [--networks resnet,crnn,wavenet] [--epochs 3]

Writes benchmarks/results/cpu_training_memory.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RATE = 22050


def synthetic_split() -> tuple[list, list, list, list]:  # type: ignore[type-arg]
    """Seeded noise-and-tone tracks of 4 classes, 30 s each (five 10 s clips with a 5 s hop): training
    tracks and labels, validation tracks and labels."""
    import numpy as np

    rng = np.random.default_rng(0)
    tracks, labels = [], []
    t = np.arange(30 * RATE) / RATE
    for label in range(4):
        for _ in range(8):
            tone = np.sin(2 * np.pi * 110 * (label + 1) * t)
            tracks.append([(0.3 * tone + 0.05 * rng.standard_normal(t.size)).astype(np.float32)])
            labels.append(label)
    return tracks[::2] + tracks[1::4], labels[::2] + labels[1::4], tracks[3::4], labels[3::4]


def synthetic_config(network: str, epochs: int, **settings: object):  # type: ignore[no-untyped-def]
    """The training both CPU benchmarks time: batch 32, a fixed learning rate, no augmentation, every
    planned epoch (no early stop), with ``settings`` on top."""
    from sonicprint.config import AugmentConfig, TrainConfig

    return TrainConfig(
        network=network,
        lr=0.01,
        epochs=epochs,
        patience=epochs,
        batch_size=32,
        device="cpu",
        augment=AugmentConfig.preset("none"),
        **settings,  # type: ignore[arg-type]
    )


def train_once(network: str, keep: bool, epochs: int) -> dict[str, float]:
    """Child process: train ``network`` on :func:`synthetic_split`; seconds per epoch and peak RSS."""
    import os
    import resource

    import torch

    from sonicprint.deep.train import train_network

    torch.set_num_threads(len(os.sched_getaffinity(0)))
    # as measured: every batch computes its spectrograms
    config = synthetic_config(network, epochs, keep_freed_memory=keep, spectrogram_cache_mb=0)
    trained = train_network(*synthetic_split(), n_classes=4, sample_rate=RATE, config=config, progress=False)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # the first epoch also pays for the allocator's first growth: the median of the rest
    return {"seconds_per_epoch": statistics.median(trained.epoch_seconds[1:]), "peak_mb": peak_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", default="", help="comma-separated (default: every registered one)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(train_once(args.child[0], args.child[1] == "keep", args.epochs)))
        return
    rows = {}
    from sonicprint.deep.networks import list_networks

    for network in args.networks.split(",") if args.networks else list_networks():
        runs = {}
        for mode in ("return", "keep"):
            out = subprocess.run(
                [sys.executable, __file__, "--epochs", str(args.epochs), "--child", network, mode],
                capture_output=True,
                text=True,
                check=True,
            )
            runs[mode] = json.loads(out.stdout.strip().splitlines()[-1])
        ratio = runs["return"]["seconds_per_epoch"] / runs["keep"]["seconds_per_epoch"]
        rows[network] = {**runs, "speedup": ratio}
        print(
            f"{network:9s} kept {runs['keep']['seconds_per_epoch']:.2f} s/epoch, given back "
            f"{runs['return']['seconds_per_epoch']:.2f} s/epoch: {ratio:.2f}x faster kept; peak "
            f"{runs['keep']['peak_mb']:.0f} MB kept, {runs['return']['peak_mb']:.0f} MB given back",
            flush=True,
        )
    (HERE / "results" / "cpu_training_memory.json").write_text(
        json.dumps(rows, indent=2) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
