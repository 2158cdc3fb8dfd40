"""A spectrogram network on the game-music development set: composers with 8+ tracks, track-disjoint
k-fold, clips cut after the split, verdicts per track; optionally the robustness conditions.

    python benchmarks/gamemusic_cnn.py --network resnet [--augment fast|robust] [--robustness] [--folds 5]

Writes benchmarks/results/gamemusic_cnn_<network>[_augmented_<preset>].{json,md} and the full report under
benchmarks/runs/. The Naev figure is the accuracy of the same 8-composer models on the Naev composers'
tracks (one game, so no game signature to lean on).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gamemusic import HERE, NAEV_COMPOSERS, check_data, source_with_min_tracks

from sonicprint.cli import _param as parse_param
from sonicprint.config import (
    AugmentConfig,
    CollectionConfig,
    DeepExperimentConfig,
    FeatureConfig,
    SplitConfig,
    TrainConfig,
)
from sonicprint.deep.experiment import run_deep_experiment
from sonicprint.deep.transforms import ROBUSTNESS_CONDITIONS


def compute_device(requested: str) -> str:
    """What the training ran on, in words, for the result file."""
    import os

    import torch

    if requested in ("auto", "cuda") and torch.cuda.is_available():
        return f"{torch.cuda.get_device_name()} (torch {torch.__version__})"
    return f"CPU, {torch.get_num_threads()} threads of {os.cpu_count()} cores (torch {torch.__version__})"


def summary_markdown(summary: dict) -> list[str]:  # type: ignore[type-arg]
    """The result file's table: clip and track figures, then track accuracy per condition."""
    augment = summary["augment"]
    if augment != "none" and not summary["config"]["train"]["augment"]["codec_prob"]:
        augment += ", without the MP3 round trip"
    return [
        f"{summary['network']} ({'augmentation: ' + augment if augment != 'none' else 'no augmentation'}, "
        f"up to {summary['config']['train']['epochs']} epochs), {summary['evaluation']}, on {summary.get('device', 'CPU, 2 cores')}:",
        f"clip accuracy {summary['clip_accuracy']:.1%} (macro F1 {summary['clip_macro_f1']:.3f}), track "
        f"accuracy {summary['track_accuracy']:.1%} (macro F1 {summary['track_macro_f1']:.3f}), Naev tracks "
        f"{summary['naev_track_accuracy']:.1%}; {summary['epoch_seconds_mean']:.2f} s per epoch"
        + (
            f", inference {summary['inference_seconds_per_30s']:.3f} s per 30 s of audio."
            if "inference_seconds_per_30s" in summary
            else "."
        ),
        "",
        "| condition | track accuracy |",
        "|---|---|",
        *[f"| {c} | {a:.1%} |" for c, a in summary["robustness"].items()],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default="resnet")
    parser.add_argument(
        "--network-param",
        type=parse_param,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a constructor argument of the network (JSON value or string), e.g. pooling=mean_std",
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--holdout", action="store_true", help="one 60/20/20 train/val/test split instead of k-fold"
    )
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--clip", type=float, default=10.0)
    parser.add_argument("--hop", type=float, default=5.0)
    parser.add_argument("--n-windows", type=int, default=6)
    parser.add_argument("--window", type=float, default=20.0)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--clips-per-epoch", type=int, default=0, help="0: every training clip once")
    parser.add_argument("--seed", type=int, default=0, help="training seed (the folds stay those of seed 0)")
    parser.add_argument("--optimizer", default="sgd")
    parser.add_argument(
        "--batch-size", type=int, default=0, help="0: 32 on CPU, the largest that fits on CUDA"
    )
    parser.add_argument("--augment", choices=["none", "robust", "fast"], default="none")
    parser.add_argument("--no-codec", action="store_true", help="augmentation without the MP3 round trip")
    parser.add_argument("--robustness", action="store_true")
    parser.add_argument(
        "--conditions", default="", help="comma-separated robustness conditions (default: all)"
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--workspace", default=str(HERE / ".workspace"))
    parser.add_argument("--resume", action="store_true")
    parser.add_argument(
        "--group",
        default="",
        help="manifest column to keep whole in one fold (default: each file its own group)",
    )
    parser.add_argument(
        "--spectrogram-cache-mb",
        type=float,
        default=TrainConfig.spectrogram_cache_mb,
        help="as `sonicprint cnn`: 0 computes every clip's log-mel in every epoch",
    )
    parser.add_argument("--tag", default="", help="suffix for the result names (e.g. the device)")
    parser.add_argument(
        "--return-freed-memory",
        action="store_true",
        help="as `sonicprint cnn`: CPU memory given back per batch",
    )
    args = parser.parse_args()
    check_data()
    name = f"gamemusic_cnn_{args.network}" + ("" if args.augment == "none" else f"_augmented_{args.augment}")
    group_columns = ("game", args.group) if args.group and args.group != "game" else ("game",)
    augment = AugmentConfig.preset(args.augment)
    if args.no_codec:  # for machines without PyAV's MP3 encoder
        augment = replace(augment, codec_prob=0.0)
        name += "_nocodec"
    name += "_holdout" if args.holdout else ""
    name += f"_seed{args.seed}" if args.seed else ""
    name += f"_{args.tag}" if args.tag else ""
    conditions = ("clean",)
    if args.robustness:
        conditions = tuple(args.conditions.split(",")) if args.conditions else ROBUSTNESS_CONDITIONS
    config = DeepExperimentConfig(
        collection=CollectionConfig(label="composer", group_columns=group_columns, min_tracks_per_label=8),
        audio=FeatureConfig(extractor="logmel", n_windows=args.n_windows, window_s=args.window),
        split=SplitConfig(
            method="holdout" if args.holdout else "kfold", folds=args.folds, group=args.group or None
        ),
        train=TrainConfig(
            network=args.network,
            network_params=dict(args.network_param),
            clip_s=args.clip,
            hop_s=args.hop,
            epochs=args.epochs,
            clips_per_epoch=args.clips_per_epoch,
            batch_size=args.batch_size,
            seed=args.seed,
            lr=args.lr,
            optimizer=args.optimizer,
            device=args.device,
            augment=augment,
            keep_freed_memory=not args.return_freed_memory,
            spectrogram_cache_mb=args.spectrogram_cache_mb,
        ),
        robustness=conditions,
        final_model=False,
    )
    out = HERE / "runs" / name
    started = time.perf_counter()
    m = run_deep_experiment(
        source_with_min_tracks(8, group_columns),
        config,
        workspace=args.workspace,
        out_dir=out,
        resume=args.resume,
        overwrite=not args.resume,  # the same command run again measures again
    )
    with (out / "predictions.csv").open(encoding="utf-8") as handle:
        # a holdout's validation tracks are listed too (they calibrate), not scored
        rows = [r for r in csv.DictReader(handle) if r["label"] in NAEV_COMPOSERS and r["fold"] != "val"]
    naev = sum(r["predicted:clean"] == r["label"] for r in rows) / max(1, len(rows))
    summary = {
        "network": args.network,
        "augment": args.augment,
        "evaluation": m["evaluation"],
        "n_tracks": m["n_tracks"],
        "clip_accuracy": m["clip"]["accuracy"],
        "clip_macro_f1": m["clip"]["macro"]["f1"],
        "track_accuracy": m["track"]["accuracy"],
        "track_macro_f1": m["track"]["macro"]["f1"],
        "naev_track_accuracy": naev,
        "robustness": m["robustness"],
        "epoch_seconds_mean": m["epoch_seconds_mean"],
        "inference_seconds_per_30s": m["inference_seconds_per_30s"],
        "device": compute_device(args.device),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "config": m["config"],
    }
    (HERE / "results" / f"{name}.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    lines = summary_markdown(summary)
    (HERE / "results" / f"{name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
