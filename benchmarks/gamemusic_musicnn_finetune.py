"""musicnn fine-tuned end to end on the game-music composers, alone and beside the classical full recipe.

Three steps, so that the training can run on a GPU machine the audio cannot travel to:

    python benchmarks/gamemusic_musicnn_finetune.py pack .pack/musicnn        # here: inputs, folds, weights
    python benchmarks/gamemusic_musicnn_finetune.py train .pack/musicnn OUT   # anywhere with torch (GPU or CPU)
    python benchmarks/gamemusic_musicnn_finetune.py fuse OUT                  # here: beside the full recipe

``pack`` writes, for the 111 tracks of the 8 composers with 8+ tracks, the musicnn input (16 kHz log-mel,
96 bands) of the same six 20 s windows the classical models read, quantised to 8 bits, the track-disjoint
5-fold splits of ``gamemusic_fingerprint.py`` for each fold seed, and MSD_musicnn's weights as plain arrays.
``train`` needs only numpy and torch (and this repository's ``src``): for every fold it starts from the
pretrained network, replaces the 50-tag output by a composer layer, and trains every layer on random 3 s
crops of the training tracks (composers sampled uniformly), AdamW; the held-out tracks are decided by the
mean log-probability of all their 3 s patches. It writes the out-of-fold track log-probabilities and the
time per epoch. ``fuse`` adds them to the full recipe's (statistics, mix, musicnn embedding: one LDA each)
on the same folds and writes benchmarks/results/gamemusic_musicnn_finetune.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

N_WINDOWS, WINDOW_S = 6, 20.0
LEVELS = 127  # 7 bits: 0.5 dB steps of the log-mel, and the pack fits in what travels to a GPU machine


def pack(out_dir: Path, seeds: int) -> None:
    from dataclasses import replace

    from _gamemusic import NAEV_COMPOSERS, composer_source

    from sonicprint.audio.decode import probe_audio
    from sonicprint.config import ExperimentConfig, FeatureConfig, SplitConfig
    from sonicprint.experiment import evaluation_splits
    from sonicprint.pipeline import (
        Workspace,
        build_collection,
        decode_windows,
        extract_feature_sets,
        select_labels,
    )
    from sonicprint.pretrained.musicnn import load_musicnn, musicnn_input

    msd = replace(FeatureConfig(), extractor="musicnn_msd_penultimate")
    assert (msd.n_windows, msd.window_s) == (N_WINDOWS, WINDOW_S)
    with Workspace(HERE / ".workspace") as ws:
        build_collection(ws, composer_source(), min_duration_s=10.0, progress=False)
        table = select_labels(extract_feature_sets(ws, (msd,), progress=False, per_window=True), min_tracks=8)
    names = sorted(set(table.labels))
    mels = []
    for i, path in enumerate(table.paths):
        windows = decode_windows(path, msd, probe_audio(path).duration_s)
        # musicnn_input cuts a window into 3 s patches; joined again they are the window's spectrogram
        mel = np.stack([np.concatenate(musicnn_input(w)) for w in windows])  # (windows, frames, 96)
        mels.append(mel)
        if i % 20 == 0:
            print(f"{i}/{len(table.paths)}", flush=True)
    frames = min(m.shape[1] for m in mels)
    mel = np.stack([m[:, :frames] for m in mels])
    top = float(mel.max())
    quantised = np.round(mel / top * LEVELS).astype(np.uint8)
    folds = {}
    for seed in range(seeds):  # the very folds cross_validate makes for the classical rows
        config = ExperimentConfig(split=SplitConfig(folds=5, seed=seed), per_window=True)
        for k, (_, _, test) in enumerate(evaluation_splits(table, config)):
            folds[f"fold/{seed}/{k}"] = test
    weights = {f"w/{k}": v.numpy() for k, v in load_musicnn("MSD_musicnn").state_dict().items()}
    out_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out_dir / "inputs.npz",
        mel=quantised,
        scale=np.float32(top / LEVELS),
        y=np.array([names.index(lab) for lab in table.labels]),
        names=np.array(names),
        hashes=np.array(table.hashes),
        naev=np.isin(table.labels, NAEV_COMPOSERS),
        **folds,
        **weights,
    )
    size = (out_dir / "inputs.npz").stat().st_size
    print(f"{len(names)} composers, {len(table.labels)} tracks, mel {mel.shape}, {size / 2**20:.1f} MiB")


def train(pack_dir: Path, out_dir: Path, args: argparse.Namespace) -> None:
    import torch
    from torch import nn
    from torch.nn import functional as F

    from sonicprint.pretrained.musicnn import PATCH_FRAMES, MusiCNN

    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.backends.cudnn.benchmark = True  # fixed input shapes: let cuDNN pick its fastest kernels once
    data = np.load(pack_dir / "inputs.npz")
    y = data["y"]
    n_classes = len(data["names"])
    mel = torch.from_numpy(data["mel"]).to(device)  # uint8 (tracks, windows, frames, 96)
    scale = float(data["scale"])
    n_tracks, n_windows, n_frames, _ = mel.shape
    state = {k[2:]: torch.from_numpy(data[k]) for k in data.files if k.startswith("w/")}
    packed_seeds = sorted({int(k.split("/")[1]) for k in data.files if k.startswith("fold/")})
    seeds = packed_seeds[args.first_seed : args.first_seed + args.seeds]

    def patches_of(tracks: torch.Tensor, windows: torch.Tensor, starts: torch.Tensor) -> torch.Tensor:
        offsets = starts[:, None] + torch.arange(PATCH_FRAMES, device=device)[None, :]
        return mel[tracks[:, None], windows[:, None], offsets].float() * scale  # (b, 187, 96)

    def build(seed: int) -> nn.Module:
        torch.manual_seed(seed)
        net = MusiCNN()
        net.load_state_dict(state)
        net.output = nn.Sequential(nn.Dropout(args.dropout), nn.Linear(200, n_classes))
        return net.to(device)

    def fit(train_idx: np.ndarray, seed: int) -> tuple[nn.Module, float]:
        net = build(seed)
        head = list(net.output.parameters())
        body = [p for n, p in net.named_parameters() if not n.startswith("output.")]
        if args.freeze_front:
            for module in (*net.timbral, *net.temporal):
                module.requires_grad_(False)
            body = [p for p in body if p.requires_grad]
        opt = torch.optim.AdamW(
            [{"params": body, "lr": args.lr}, {"params": head, "lr": args.lr * args.head_lr_factor}],
            weight_decay=args.weight_decay,
        )
        steps = args.epochs * args.steps_per_epoch
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=[args.lr, args.lr * args.head_lr_factor], total_steps=steps, pct_start=0.1
        )
        gen = torch.Generator(device=device).manual_seed(seed)
        rng = np.random.default_rng(seed)
        members = [train_idx[y[train_idx] == c] for c in range(n_classes)]
        counts = torch.tensor([len(m) for m in members], device=device)
        by_class = torch.from_numpy(np.stack([np.resize(m, max(map(len, members))) for m in members])).to(
            device
        )  # (classes, most tracks): row c lists class c's training tracks, repeated to fill
        began = time.perf_counter()
        net.train()
        for _step in range(steps):
            # balanced: a composer uniformly, then one of their training tracks, a window and a 3 s crop
            cls = torch.randint(n_classes, (args.batch_size,), generator=gen, device=device)
            nth = (torch.rand(args.batch_size, generator=gen, device=device) * counts[cls]).long()
            pick = by_class[cls, nth]
            win = torch.randint(n_windows, (args.batch_size,), generator=gen, device=device)
            start = torch.randint(
                n_frames - PATCH_FRAMES + 1, (args.batch_size,), generator=gen, device=device
            )
            x = patches_of(pick, win, start)
            lam, partner = 1.0, cls
            if args.mixup > 0:
                lam = float(rng.beta(args.mixup, args.mixup))
                perm = torch.randperm(len(x), generator=gen, device=device)
                x, partner = lam * x + (1 - lam) * x[perm], cls[perm]
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                logits = net(x)["logits"].float()
            loss = lam * F.cross_entropy(logits, cls, label_smoothing=args.label_smoothing)
            if lam < 1.0:
                loss = loss + (1 - lam) * F.cross_entropy(
                    logits, partner, label_smoothing=args.label_smoothing
                )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return net.eval(), (time.perf_counter() - began) / args.epochs

    starts = torch.arange(0, n_frames - PATCH_FRAMES + 1, PATCH_FRAMES, device=device)

    @torch.no_grad()
    def decide(net: nn.Module, test_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each test track's mean patch log-probability, and each patch's own verdict."""
        tracks, patch_right = [], []
        for t in test_idx:
            w = torch.arange(n_windows, device=device).repeat_interleave(len(starts))
            s = starts.repeat(n_windows)
            x = patches_of(torch.full_like(w, int(t)), w, s)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                logp = F.log_softmax(net(x)["logits"].float(), dim=1)
            tracks.append(logp.mean(0).cpu().numpy())
            patch_right.append((logp.argmax(1) == int(y[t])).float().mean().item())
        return np.stack(tracks), np.array(patch_right)

    out_dir.mkdir(parents=True, exist_ok=True)
    scores = np.full((len(seeds), n_tracks, n_classes), np.nan)
    patch_accuracy = np.full((len(seeds), n_tracks), np.nan)
    per_epoch = []
    for si, seed in enumerate(seeds):
        for k in range(args.folds_to_run):
            test = data[f"fold/{seed}/{k}"]
            train_idx = np.setdiff1d(np.arange(n_tracks), test)
            net, seconds = fit(train_idx, seed * 10 + k)
            per_epoch.append(seconds)
            scores[si, test], patch_accuracy[si, test] = decide(net, test)
            write_results(out_dir, args, scores, patch_accuracy, per_epoch, seeds[: si + 1], y, device)
        done = ~np.isnan(scores[si, :, 0])
        acc = float(np.mean(scores[si, done].argmax(1) == y[done]))
        print(
            f"fold seed {seed}: track accuracy {acc:.3f}, patch {np.nanmean(patch_accuracy[si]):.3f}, "
            f"{np.mean(per_epoch):.2f} s per epoch",
            flush=True,
        )


def write_results(out_dir, args, scores, patch_accuracy, per_epoch, seeds, y, device) -> None:  # type: ignore[no-untyped-def]
    """Scores and summary of the folds done so far (written after each, so a cut-short run keeps them);
    accuracies count complete fold seeds only."""
    import torch

    done = scores[: len(seeds)]
    complete = [s for s in done if not np.isnan(s).any()]
    track_acc = [float(np.mean(s.argmax(1) == y)) for s in complete]
    summary = {
        "settings": {k: v for k, v in vars(args).items() if k not in ("pack", "out", "command")},
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "fold_seeds": seeds[: len(complete)],
        "tracks_decided": int(sum((~np.isnan(s[:, 0])).sum() for s in done)),
        "track_accuracy_per_seed": track_acc,
        "track_accuracy_mean": float(np.mean(track_acc)) if track_acc else None,
        "patch_accuracy_mean": float(np.nanmean(patch_accuracy[: len(seeds)])),
        "seconds_per_epoch": float(np.median(per_epoch)),
        "folds_trained": len(per_epoch),
    }
    np.save(out_dir / f"scores_{args.tag}.npy", done)
    (out_dir / f"summary_{args.tag}.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary), flush=True)


def fuse(out_dir: Path, tags: list[str]) -> None:
    """Each fine-tuned run alone, the full recipe (statistics, mix, musicnn embedding: one LDA each) and the
    recipe with the run as one more family of its late fusion, all on the tracks the run decided (a run cut
    short by a time limit decides only the folds it finished; the comparison stays paired)."""
    from _gamemusic import NAEV_COMPOSERS, composer_source
    from gamemusic_fingerprint import MIX, MSD, STATS

    from sonicprint.config import ExperimentConfig, ModelConfig, SplitConfig
    from sonicprint.evaluation import evaluate
    from sonicprint.experiment import cross_validate
    from sonicprint.pipeline import Workspace, build_collection, extract_feature_sets, select_labels

    with Workspace(HERE / ".workspace") as ws:
        build_collection(ws, composer_source(), min_duration_s=10.0, progress=False)
        table = select_labels(
            extract_feature_sets(ws, (STATS, MIX, MSD), progress=False, per_window=True), min_tracks=8
        )
    packed = np.load(HERE.parent / ".pack" / "musicnn" / "inputs.npz")
    if list(packed["hashes"]) != list(table.hashes):
        raise SystemExit("the pack's tracks differ from the workspace's; run the pack step again")
    names = sorted(set(table.labels))
    y = np.array([names.index(lab) for lab in table.labels])
    naev = np.isin(table.labels, NAEV_COMPOSERS)
    recipe = ModelConfig("lda", {"priors": "uniform"}, "late")
    recipe_logp = {}
    for seed in range(5):
        config = ExperimentConfig(model=recipe, split=SplitConfig(folds=5, seed=seed), per_window=True)
        proba, _, labels, _ = cross_validate(table, config)
        assert labels == names
        recipe_logp[seed] = np.log(np.clip(proba, 1e-300, None))

    def scored(per_seed: list[tuple[np.ndarray, np.ndarray]]) -> dict:
        """Accuracy and macro F1 over each seed's decided tracks (``(scores, decided mask)`` pairs)."""
        accuracy, f1, on_naev = [], [], []
        for scores, decided in per_seed:
            guess = scores[decided].argmax(1)
            truth = [table.labels[i] for i in np.flatnonzero(decided)]
            accuracy.append(float(np.mean(guess == y[decided])))
            f1.append(evaluate(truth, [names[i] for i in guess], names)["macro"]["f1"])
            on_naev.append(float(np.mean(scores[decided & naev].argmax(1) == y[decided & naev])))
        return {
            "accuracy_mean": float(np.mean(accuracy)),
            "accuracy_std": float(np.std(accuracy)),
            "accuracy_per_seed": accuracy,
            "macro_f1_mean": float(np.mean(f1)),
            "naev_tracks_accuracy_mean": float(np.mean(on_naev)),
        }

    def log_normalised(scores: np.ndarray) -> np.ndarray:
        return scores - np.logaddexp.reduce(scores, axis=1, keepdims=True)

    results, summaries = [], {}
    for joined in tags:  # "a+b": runs of one setting over different fold seeds, read as one
        runs = []
        for part in joined.split("+"):
            summary = json.loads((out_dir / f"summary_{part}.json").read_text(encoding="utf-8"))
            summaries[part] = summary
            first = summary["settings"].get("first_seed", 0)
            for i, scores in enumerate(np.load(out_dir / f"scores_{part}.npy")):
                decided = ~np.isnan(scores[:, 0])
                if decided.any():
                    runs.append((first + i, scores, decided))
        row = {
            "run": joined,
            "settings": summaries[joined.split("+")[0]]["settings"],
            "fold_seeds": [seed for seed, _, _ in runs],
            "tracks_decided_per_seed": [int(d.sum()) for _, _, d in runs],
            "fine_tuned": scored([(s, d) for _, s, d in runs]),
            "recipe": scored([(recipe_logp[seed], d) for seed, _, d in runs]),
            "recipe_plus_fine_tuned": scored(
                [(recipe_logp[seed] + log_normalised(np.nan_to_num(s)), d) for seed, s, d in runs]
            ),
        }
        results.append(row)
        print(
            f"{joined}: {row['tracks_decided_per_seed']} tracks decided; fine-tuned "
            f"{row['fine_tuned']['accuracy_mean']:.3f}, recipe {row['recipe']['accuracy_mean']:.3f}, "
            f"recipe + fine-tuned {row['recipe_plus_fine_tuned']['accuracy_mean']:.3f}",
            flush=True,
        )
    (HERE / "results" / "gamemusic_musicnn_finetune.json").write_text(
        json.dumps({"runs": summaries, "results": results}, indent=2) + "\n", encoding="utf-8"
    )
    write_markdown(results, summaries)


def write_markdown(results: list[dict], summaries: dict) -> None:
    """benchmarks/results/gamemusic_musicnn_finetune.md: one row per run, the recipe on the same tracks."""
    lines = [
        "| run | layers trained | lr | fold seeds (tracks decided) | fine-tuned alone | full recipe, same tracks "
        "| recipe + fine-tuned | Naev tracks: fine-tuned / recipe | s per epoch |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        s = r["settings"]
        ft, rec, both = r["fine_tuned"], r["recipe"], r["recipe_plus_fine_tuned"]
        seeds = ", ".join(f"{seed} ({n})" for seed, n in zip(r["fold_seeds"], r["tracks_decided_per_seed"]))
        seconds = [summaries[part]["seconds_per_epoch"] for part in r["run"].split("+")]
        parts = r["run"].split("+")
        name = parts[0] if len(parts) == 1 else f"{parts[0]} ... {parts[-1]}"
        lines.append(
            f"| {name} | {'mid and back end' if s['freeze_front'] else 'all'} | {s['lr']:g} | {seeds} "
            f"| {ft['accuracy_mean']:.1%} (F1 {ft['macro_f1_mean']:.3f}) "
            f"| {rec['accuracy_mean']:.1%} (F1 {rec['macro_f1_mean']:.3f}) "
            f"| {both['accuracy_mean']:.1%} (F1 {both['macro_f1_mean']:.3f}) "
            f"| {ft['naev_tracks_accuracy_mean']:.1%} / {rec['naev_tracks_accuracy_mean']:.1%} "
            f"| {min(seconds):.1f}-{max(seconds):.1f} |"
        )
    first = next(iter(summaries.values()))
    s = first["settings"]
    lines += [
        "",
        f"MSD_musicnn fine-tuned per fold on {first['device']} (torch {first['torch']}): {s['epochs']} epochs of "
        f"{s['steps_per_epoch']} steps, batches of {s['batch_size']} random 3 s crops of the training tracks' six "
        f"20 s windows (composer sampled uniformly), AdamW (weight decay {s['weight_decay']:g}, one-cycle "
        f"schedule, new output layer at {s['head_lr_factor']:g}x the rate, dropout {s['dropout']:g}), bf16 "
        "autocast; a held-out track is decided by the mean log-probability of its 36 non-overlapping 3 s "
        "patches. Input: 16 kHz log-mel, 96 bands, quantised to 7 bits for the trip to the GPU machine. "
        "Track-disjoint 5-fold CV on the 111 tracks of the 8 composers with 8+ tracks, the folds of "
        "`gamemusic_fingerprint.py`; every column of a row is measured on the same tracks. Runs were started "
        "two or four at a time on one GPU, so the seconds per epoch are upper bounds; a run stopped by the "
        "time limit decided only the folds it finished (tracks decided, in brackets).",
    ]
    (HERE / "results" / "gamemusic_musicnn_finetune.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack")
    p.add_argument("out", type=Path)
    p.add_argument("--seeds", type=int, default=5)
    t = sub.add_parser("train")
    t.add_argument("pack", type=Path)
    t.add_argument("out", type=Path)
    t.add_argument("--tag", default="finetune")
    t.add_argument("--seeds", type=int, default=5)
    t.add_argument("--first-seed", type=int, default=0, help="to spread the fold seeds over processes")
    t.add_argument("--epochs", type=int, default=15)
    t.add_argument("--steps-per-epoch", type=int, default=50)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--lr", type=float, default=1e-4)
    t.add_argument("--head-lr-factor", type=float, default=10.0)
    t.add_argument("--weight-decay", type=float, default=1e-2)
    t.add_argument("--dropout", type=float, default=0.5)
    t.add_argument("--label-smoothing", type=float, default=0.0)
    t.add_argument("--mixup", type=float, default=0.0)
    t.add_argument("--freeze-front", action="store_true")
    t.add_argument("--device", default="")
    t.add_argument("--folds-to-run", type=int, default=5, help="fewer for a smoke test")
    f = sub.add_parser("fuse")
    f.add_argument("out", type=Path)
    f.add_argument("tags", nargs="+")
    args = parser.parse_args()
    if args.command == "pack":
        pack(args.out, args.seeds)
    elif args.command == "train":
        train(args.pack, args.out, args)
    else:
        fuse(args.out, args.tags)


if __name__ == "__main__":
    main()
