"""CPU training with each clip's log-mel computed once and kept (the default without audio augmentation)
against computing it for every batch, as before.

Each network trains on the seeded synthetic clips of ``cpu_training_memory.py`` (10 s clips, batch 32, a
fixed learning rate, no augmentation) once per setting, in one process, alternating the order so neither
setting always runs warm. Prints the median seconds per epoch (the first epoch left out), the one-time cost
of the kept spectrograms, the ratio against computing them every batch measured in the same run, and
whether both trainings ended with the same weights (they should: a clip's log-mel does not depend on the
batch it is computed in).

    python benchmarks/spectrogram_cache_speed.py [--networks wavenet,resnet] [--epochs 4]

Writes benchmarks/results/spectrogram_cache_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu_training_memory import HERE, RATE, synthetic_config, synthetic_split


def train(network: str, cache_mb: float, epochs: int, data: tuple) -> dict:  # type: ignore[type-arg]
    """Seconds per epoch, the kept spectrograms' cost, and the trained weights."""
    from sonicprint.deep.train import train_network

    config = synthetic_config(network, epochs, spectrogram_cache_mb=cache_mb)
    trained = train_network(*data, n_classes=4, sample_rate=RATE, config=config, progress=False)
    return {
        "seconds_per_epoch": statistics.median(trained.epoch_seconds[1:]),
        "spectrogram_seconds": trained.spectrogram_seconds,
        "weights": [p.detach().clone() for p in trained.network.parameters()],
    }


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", default="wavenet,resnet")
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    data = synthetic_split()
    rows = {}
    for k, network in enumerate(args.networks.split(",")):
        order = [("every_batch", 0.0), ("kept", 2048.0)]
        runs = {name: train(network, mb, args.epochs, data) for name, mb in (order[::-1] if k % 2 else order)}
        same = all(torch.equal(p, q) for p, q in zip(runs["kept"]["weights"], runs["every_batch"]["weights"]))
        every, kept = runs["every_batch"]["seconds_per_epoch"], runs["kept"]["seconds_per_epoch"]
        rows[network] = {
            "seconds_per_epoch_every_batch": every,
            "seconds_per_epoch_kept": kept,
            "spectrogram_seconds_once": runs["kept"]["spectrogram_seconds"],
            "speedup_per_epoch": every / kept,
            f"speedup_over_{args.epochs}_epochs": args.epochs
            * every
            / (args.epochs * kept + runs["kept"]["spectrogram_seconds"]),
            "same_weights": same,
        }
        print(
            f"{network:9s} {every:.2f} s/epoch computing spectrograms every batch, {kept:.2f} s/epoch with "
            f"them kept ({runs['kept']['spectrogram_seconds']:.2f} s once): {every / kept:.2f}x per epoch; "
            f"same weights: {same}",
            flush=True,
        )
    (HERE / "results" / "spectrogram_cache_speed.json").write_text(
        json.dumps(rows, indent=2) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
