"""Training a spectrogram network on clips of tracks, and deciding per track.

Tracks arrive as lists of mono audio segments (the windows read from each file) with integer labels,
already split: clips are cut here, inside each part, so no track contributes clips to two parts.
"""

from __future__ import annotations

import copy
import math
import os
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from ..config import TrainConfig, config_changes, from_dict, to_dict
from ..errors import ConfigError, FileProblem
from ..models.serialize import load_failure
from .augment import augment_audio, mixup, spec_augment
from .clips import balanced_sample, cut_clips, slice_clip
from .melspec import LogMel
from .memory import keep_freed_memory
from .networks import SpectrogramNetwork, create_network

Track = Sequence[np.ndarray]  # the segments of one track


@dataclass
class ClipSet:
    """Clips of a list of tracks: which track and segment each comes from, and where it starts."""

    tracks: Sequence[Track]
    labels: np.ndarray
    segment_track: np.ndarray
    segments: list[np.ndarray]
    clip_segment: np.ndarray
    clip_start: np.ndarray
    clip_samples: int

    @classmethod
    def cut(
        cls,
        tracks: Sequence[Track],
        labels: Sequence[int] | np.ndarray,
        *,
        clip_samples: int,
        hop_samples: int,
    ) -> ClipSet:
        segments = [seg for track in tracks for seg in track]
        segment_track = np.array([i for i, track in enumerate(tracks) for _ in track], dtype=np.int64)
        clips = cut_clips([len(s) for s in segments], clip=clip_samples, hop=hop_samples)
        return cls(
            tracks,
            np.asarray(labels, dtype=np.int64),
            segment_track,
            segments,
            np.array([c.track for c in clips], dtype=np.int64),
            np.array([c.start for c in clips], dtype=np.int64),
            clip_samples,
        )

    def __len__(self) -> int:
        return len(self.clip_segment)

    @property
    def clip_track(self) -> np.ndarray:
        return self.segment_track[self.clip_segment]

    @property
    def clip_labels(self) -> np.ndarray:
        return self.labels[self.clip_track]

    def audio(self, index: int) -> np.ndarray:
        return slice_clip(
            self.segments[self.clip_segment[index]], int(self.clip_start[index]), self.clip_samples
        )


@dataclass
class TrainedNetwork:
    """A trained network with its input normalisation, ready for clip and track predictions."""

    network: SpectrogramNetwork
    config: TrainConfig
    n_classes: int
    sample_rate: int
    norm_mean: np.ndarray
    norm_std: np.ndarray
    history: list[dict[str, float]] = field(default_factory=list)
    lr: float = 0.0
    lr_finder: dict[str, list[float]] | None = None
    epoch_seconds: list[float] = field(default_factory=list)
    #: time spent computing the spectrograms kept for every epoch (:class:`ClipSpectrograms`), if any
    spectrogram_seconds: float = 0.0


def pick_device(name: str) -> torch.device:
    """``"auto"``: CUDA when torch sees a device, else the CPU; ``"cuda"`` when there is none is an error
    that says so (rather than torch's, deep inside training)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} asked for, but torch sees no CUDA device here; use cpu or auto")
    return torch.device(name)


class _Inputs:
    """Turns audio clips into normalised log-mel batches on the device."""

    def __init__(self, logmel: LogMel, mean: np.ndarray, std: np.ndarray, device: torch.device) -> None:
        self.logmel = logmel.to(device)
        self.mean = torch.from_numpy(mean.astype(np.float32)).to(device).view(1, -1, 1)
        self.std = torch.from_numpy(std.astype(np.float32)).to(device).view(1, -1, 1)
        self.device = device

    def __call__(self, audio: np.ndarray) -> torch.Tensor:
        with torch.no_grad():
            spec = self.logmel(torch.from_numpy(np.ascontiguousarray(audio)).to(self.device))
        return (spec - self.mean) / self.std


class ClipSpectrograms:
    """The normalised log-mel of every clip of a :class:`ClipSet`, computed once and kept in (CPU) memory,
    for training without audio augmentation: each epoch then costs only the network. A clip's log-mel
    does not depend on the batch it is computed in, so the values are those computed on the fly."""

    def __init__(self, clips: ClipSet, inputs: _Inputs, *, batch_size: int = 32) -> None:
        self.values = torch.cat(
            [
                inputs(np.stack([clips.audio(i) for i in batch])).cpu()
                for batch in _batches(np.arange(len(clips)), batch_size)
            ]
        )
        self.device = inputs.device

    def __getitem__(self, batch: np.ndarray) -> torch.Tensor:
        return self.values[torch.from_numpy(np.asarray(batch, dtype=np.int64))].to(self.device)

    @staticmethod
    def megabytes(clips: ClipSet, logmel: LogMel) -> float:
        """What the spectrograms of ``clips`` would take (float32)."""
        frames = 1 + clips.clip_samples // logmel.hop_length
        return len(clips) * logmel.mel_basis.shape[0] * frames * 4 / 2**20


def _spectrogram_cache(
    clips: ClipSet, inputs: _Inputs, config: TrainConfig, *, budget_mb: float
) -> ClipSpectrograms | None:
    """The clips' spectrograms, kept when training augments no audio (a clip then always gives the same
    input), runs on the CPU (on a GPU they are computed there, beside the network) and they fit
    in ``budget_mb``; None otherwise."""
    if _augments_audio(config) or inputs.device.type != "cpu" or not len(clips):
        return None
    if ClipSpectrograms.megabytes(clips, inputs.logmel) > budget_mb:
        return None
    return ClipSpectrograms(clips, inputs)


def fit_normalisation(
    clips: ClipSet, logmel: LogMel, *, rng: np.random.Generator, n: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """Per-band mean and std of the log-mel of (up to ``n``) training clips: the training part only."""
    picks = rng.choice(len(clips), size=min(n, len(clips)), replace=False)
    with torch.no_grad():
        specs = torch.cat(
            [
                logmel(torch.from_numpy(np.stack([clips.audio(i) for i in picks[s : s + 32]])))
                for s in range(0, len(picks), 32)
            ]
        )
    mean = specs.mean(dim=(0, 2)).numpy()
    std = specs.std(dim=(0, 2)).clamp(min=1e-3).numpy()
    return mean, std


def _batches(indices: np.ndarray, size: int) -> list[np.ndarray]:
    return [indices[s : s + size] for s in range(0, len(indices), size)]


def _audio_batch(
    clips: ClipSet,
    batch: np.ndarray,
    *,
    sample_rate: int,
    config: TrainConfig,
    rng: np.random.Generator,
    pool: ThreadPoolExecutor | None,
) -> np.ndarray:
    """The batch's clips ``(batch, samples)``, augmented when the config says so."""
    if not _augments_audio(config):
        return np.stack([clips.audio(i) for i in batch])
    # A seed per clip drawn from the run's rng: the same draws whatever the number of threads, and
    # part of the rng state a checkpoint saves.
    seeds = rng.integers(0, 2**63, size=len(batch))

    def one(k: int) -> np.ndarray:
        return augment_audio(
            clips.audio(batch[k]),
            sample_rate=sample_rate,
            config=config.augment,
            rng=np.random.default_rng(seeds[k]),
        )

    return np.stack(list(pool.map(one, range(len(batch)))) if pool else [one(k) for k in range(len(batch))])


def _augment_pool(config: TrainConfig) -> ThreadPoolExecutor | None:
    if not _augments_audio(config):
        return None
    return ThreadPoolExecutor(config.augment_threads or os.cpu_count() or 1, "sonicprint-augment")


def _train_batch(
    net, inputs, clips, batch, config, rng, optimiser, n_classes, pool=None, kept=None
) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    if kept is not None:  # the clips' spectrograms, computed once (ClipSpectrograms)
        x = kept[batch]
    else:
        audio = _audio_batch(
            clips, batch, sample_rate=inputs.logmel.sample_rate, config=config, rng=rng, pool=pool
        )
        x = inputs(audio)
    x = spec_augment(x, config=config.augment, rng=rng)
    y = torch.from_numpy(clips.clip_labels[batch]).to(inputs.device)
    targets = F.one_hot(y, n_classes).float()
    x, targets = mixup(x, targets, alpha=config.augment.mixup_alpha, rng=rng)
    optimiser.zero_grad()
    logits = net(x)
    loss = torch.sum(-targets * F.log_softmax(logits, dim=1), dim=1).mean()
    loss.backward()
    optimiser.step()
    return float(loss.detach()), float((logits.argmax(1) == y).float().mean())


def _augments_audio(config: TrainConfig) -> bool:
    a = config.augment
    return bool(
        a.pitch_semitones
        or a.tempo_change
        or a.gain_db
        or a.filter_prob
        or a.noise_prob
        or a.reverb_prob
        or a.codec_prob
    )


def _optimiser(net: torch.nn.Module, config: TrainConfig, lr: float) -> torch.optim.Optimizer:
    if config.optimizer == "adamw":
        return torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(
        net.parameters(),
        lr=lr,
        momentum=config.momentum,
        weight_decay=config.weight_decay,
        nesterov=config.momentum > 0,
    )


def _stage_label(stage: str, what: str) -> str:
    return f"{stage}: {what}" if stage else what


def lr_range_test(
    net,
    inputs,
    clips,
    config,
    rng,
    n_classes,
    *,
    lo: float = 1e-5,
    hi: float = 1.0,
    progress: bool = False,
    stage: str = "",
    kept: ClipSpectrograms | None = None,
) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    """Leslie Smith's LR range test: raise the LR exponentially over ``config.lr_range_steps`` batches and
    record the smoothed loss. ``net`` is restored afterwards. The suggestion is a tenth of the LR at the
    lowest loss."""
    from tqdm import tqdm

    steps = config.lr_range_steps
    saved = copy.deepcopy(net.state_dict())
    optimiser = _optimiser(net, config, lo)
    factor = (hi / lo) ** (1 / max(1, steps - 1))
    lrs, losses = [], []
    smooth, best = 0.0, math.inf
    net.train()
    size = _batch_size(config, inputs.device)
    bar = tqdm(
        total=steps,
        desc=_stage_label(stage, "LR range test"),
        disable=not progress,
        leave=False,
        file=sys.stderr,
    )
    for step in range(steps):
        bar.update(1)
        lr = lo * factor**step
        for group in optimiser.param_groups:
            group["lr"] = lr
        batch = balanced_sample(clips.clip_labels, n=size, rng=rng)
        loss, _ = _train_batch(net, inputs, clips, batch, config, rng, optimiser, n_classes, kept=kept)
        smooth = 0.9 * smooth + 0.1 * loss  # exponential average from zero, bias-corrected below
        corrected = smooth / (1 - 0.9 ** (step + 1))
        lrs.append(lr)
        losses.append(corrected)
        best = min(best, corrected)
        bar.set_postfix(lr=f"{lr:.1e}", loss=f"{corrected:.3f}")
        if not math.isfinite(corrected) or corrected > 4 * best:
            break
    bar.close()
    net.load_state_dict(saved)
    suggestion = lrs[int(np.argmin(losses))] / 10
    return {"lr": lrs, "loss": losses, "suggestion": [suggestion]}


#: settings that change how training runs but not what it computes: a run may resume under others
RESUMABLE_UNDER_OTHER = ("device", "augment_threads", "keep_freed_memory", "spectrogram_cache_mb")


def _require_same_training(checkpoint: Path, saved: Mapping[str, Any], config: TrainConfig) -> None:
    """A ConfigError naming ``checkpoint`` and each changed setting, when it was made with other settings:
    resuming it would give neither the old run nor a new one."""
    changed = config_changes(
        to_dict(from_dict(TrainConfig, saved)), to_dict(config), ignore=RESUMABLE_UNDER_OTHER
    )
    if changed:
        raise ConfigError(
            f"{checkpoint} was trained with other settings ({'; '.join(changed)}); resume with the same "
            "settings, or write to another output folder to start afresh"
        )


def _batch_size(config: TrainConfig, device: torch.device) -> int:
    return config.batch_size or (64 if device.type == "cuda" else 32)


def choose_batch_size(net: torch.nn.Module, inputs: _Inputs, clip_samples: int, *, start: int = 256) -> int:
    """The largest power-of-two batch (<= ``start``) whose forward and backward pass fit in GPU memory."""
    size = start
    while size > 1:
        try:
            x = inputs(np.zeros((size, clip_samples), dtype=np.float32))
            net(x).sum().backward()
            net.zero_grad(set_to_none=True)
            return size
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            size //= 2
    return 1


def predict_clips(
    trained: TrainedNetwork,
    clips: ClipSet,
    *,
    batch_size: int = 64,
    embeddings: bool = False,
    kept: ClipSpectrograms | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Clip log-probabilities ``(n_clips, n_classes)`` and (optionally) penultimate embeddings; ``kept``:
    the clips' spectrograms, computed once, instead of from their audio."""
    device = next(trained.network.parameters()).device
    inputs = _Inputs(
        LogMel(sample_rate=trained.sample_rate, n_mels=trained.config.n_mels),
        trained.norm_mean,
        trained.norm_std,
        device,
    )
    net = trained.network.eval()
    out, emb = [], []
    with torch.no_grad():
        for batch in _batches(np.arange(len(clips)), batch_size):
            x = kept[batch] if kept is not None else inputs(np.stack([clips.audio(i) for i in batch]))
            out.append(F.log_softmax(net(x), dim=1).cpu().numpy())
            if embeddings:
                emb.append(net.embed(x).cpu().numpy())
    return np.concatenate(out), (np.concatenate(emb) if embeddings else None)


def track_embeddings(clip_embeddings: np.ndarray, clip_track: np.ndarray, n_tracks: int) -> np.ndarray:
    """Each track's embedding, the mean of its clips': ``(n_tracks, dim)`` (zeros for a track with none)."""
    out = np.zeros((n_tracks, clip_embeddings.shape[1]))
    np.add.at(out, clip_track, clip_embeddings)
    return out / np.maximum(np.bincount(clip_track, minlength=n_tracks), 1)[:, None]


def track_log_probs(clip_log_probs: np.ndarray, clip_track: np.ndarray, n_tracks: int) -> np.ndarray:
    """Track verdicts: the mean clip log-probability of each track, renormalised ``(n_tracks, n_classes)``."""
    out = np.zeros((n_tracks, clip_log_probs.shape[1]))
    np.add.at(out, clip_track, clip_log_probs)
    counts = np.bincount(clip_track, minlength=n_tracks)[:, None]
    mean = out / np.maximum(counts, 1)
    return mean - np.logaddexp.reduce(mean, axis=1, keepdims=True)


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def train_network(
    train_tracks: Sequence[Track],
    train_labels: Sequence[int] | np.ndarray,
    val_tracks: Sequence[Track],
    val_labels: Sequence[int] | np.ndarray,
    *,
    n_classes: int,
    sample_rate: int,
    config: TrainConfig,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
    stage: str = "",
) -> TrainedNetwork:
    """Train ``config.network`` on clips of the training tracks, early-stopping on validation track accuracy.

    With ``checkpoint_dir``, the state is saved after every epoch (``last.pt``); ``resume=True`` continues an
    interrupted run from there and reaches the same result as an uninterrupted one. ``stop_after`` ends
    this call after that many epochs (a time-boxed run; a later call with ``resume`` goes on). ``stage``
    names this training in the progress bars (e.g. ``"fold 2/5"``).
    """
    from tqdm import tqdm

    device = pick_device(config.device)
    if device.type == "cpu" and config.keep_freed_memory:
        keep_freed_memory()  # no page faults on every batch's activations (see deep.memory)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    clip_n, hop_n = int(config.clip_s * sample_rate), int(config.hop_s * sample_rate)
    train = ClipSet.cut(train_tracks, train_labels, clip_samples=clip_n, hop_samples=hop_n)
    val = ClipSet.cut(val_tracks, val_labels, clip_samples=clip_n, hop_samples=hop_n)
    logmel = LogMel(sample_rate=sample_rate, n_mels=config.n_mels)
    mean, std = fit_normalisation(train, logmel, rng=rng)
    inputs = _Inputs(logmel, mean, std, device)
    net = create_network(
        config.network, n_mels=config.n_mels, n_classes=n_classes, **dict(config.network_params)
    ).to(device)
    trained = TrainedNetwork(net, config, n_classes, sample_rate, mean, std)
    batch_size = config.batch_size or (
        choose_batch_size(net, inputs, clip_n) if device.type == "cuda" else 32
    )
    started = time.perf_counter()
    kept_train = _spectrogram_cache(train, inputs, config, budget_mb=config.spectrogram_cache_mb)
    budget_left = config.spectrogram_cache_mb - (
        ClipSpectrograms.megabytes(train, logmel) if kept_train else 0
    )
    kept_val = _spectrogram_cache(val, inputs, config, budget_mb=budget_left)
    trained.spectrogram_seconds = time.perf_counter() - started
    checkpoint = Path(checkpoint_dir) / "last.pt" if checkpoint_dir is not None else None
    start_epoch, best_score, best_state, stale = 0, (-1.0, -math.inf), None, 0
    if resume and checkpoint is not None and checkpoint.is_file():
        # Loaded on the CPU: the RNG states must stay CPU tensors; weights move on load_state_dict.
        try:
            state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise FileProblem(
                checkpoint,
                f"cannot resume from this checkpoint ({load_failure(checkpoint, exc)}); "
                "start afresh: without --resume, with --overwrite or into another output folder",
            ) from exc
        _require_same_training(checkpoint, state.get("config") or {}, config)
        net.load_state_dict(state["network"])
        rng.bit_generator.state = state["numpy_rng"]
        torch.set_rng_state(state["torch_rng"])
        if device.type == "cuda" and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(state["cuda_rng"], device)
        trained.lr, trained.lr_finder, trained.history = state["lr"], state["lr_finder"], state["history"]
        trained.epoch_seconds = state["epoch_seconds"]
        start_epoch, best_score, best_state, stale = (
            state["epoch"] + 1,
            tuple(state["best_score"]),
            state["best_state"],
            state["stale"],
        )
        optimiser = _optimiser(net, config, trained.lr)
        optimiser.load_state_dict(state["optimiser"])
    else:
        if config.lr is None:
            trained.lr_finder = lr_range_test(
                net, inputs, train, config, rng, n_classes, progress=progress, stage=stage, kept=kept_train
            )
            trained.lr = trained.lr_finder["suggestion"][0]
        else:
            trained.lr = config.lr
        optimiser = _optimiser(net, config, trained.lr)
    per_epoch = config.clips_per_epoch or len(train)
    if stale >= config.patience:  # resumed after early stopping: nothing left to train
        start_epoch = config.epochs
    pool = _augment_pool(config)
    try:
        for epoch in range(start_epoch, config.epochs):
            started = time.perf_counter()
            for group in optimiser.param_groups:  # cosine decay over the planned epochs
                group["lr"] = trained.lr * 0.5 * (1 + math.cos(math.pi * epoch / config.epochs))
            net.train()
            order = balanced_sample(train.clip_labels, n=per_epoch, rng=rng)
            losses, accs = [], []
            bar = tqdm(
                _batches(order, batch_size),
                desc=_stage_label(stage, f"epoch {epoch + 1}/{config.epochs}"),
                disable=not progress,
                leave=False,
                file=sys.stderr,
            )
            for batch in bar:
                loss, acc = _train_batch(
                    net, inputs, train, batch, config, rng, optimiser, n_classes, pool, kept_train
                )
                losses.append(loss)
                accs.append(acc)
                bar.set_postfix(loss=f"{np.mean(losses):.3f}", acc=f"{np.mean(accs):.3f}")
            seconds = time.perf_counter() - started
            clip_lp, _ = predict_clips(trained, val, kept=kept_val)
            track_lp = track_log_probs(clip_lp, val.clip_track, len(val_tracks))
            val_loss = float(-np.mean(clip_lp[np.arange(len(val)), val.clip_labels]))
            record = {
                "epoch": epoch + 1,
                "train_loss": float(np.mean(losses)),
                "train_accuracy": float(np.mean(accs)),
                "val_loss": val_loss,
                "val_clip_accuracy": float(np.mean(clip_lp.argmax(1) == val.clip_labels)),
                "val_track_accuracy": float(np.mean(track_lp.argmax(1) == np.asarray(val_labels))),
                "lr": optimiser.param_groups[0]["lr"],
                "seconds": seconds,
            }
            trained.history.append(record)
            trained.epoch_seconds.append(seconds)
            score = (record["val_track_accuracy"], -val_loss)
            if score > best_score:
                best_score, best_state, stale = score, copy.deepcopy(net.state_dict()), 0
            else:
                stale += 1
            if checkpoint is not None:
                checkpoint.parent.mkdir(parents=True, exist_ok=True)
                _save_checkpoint(
                    checkpoint,
                    {
                        "epoch": epoch,
                        "network": net.state_dict(),
                        "optimiser": optimiser.state_dict(),
                        "numpy_rng": rng.bit_generator.state,
                        "torch_rng": torch.get_rng_state(),
                        "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
                        "lr": trained.lr,
                        "lr_finder": trained.lr_finder,
                        "history": trained.history,
                        "epoch_seconds": trained.epoch_seconds,
                        "best_score": list(best_score),
                        "best_state": best_state,
                        "stale": stale,
                        "config": to_dict(config),
                    },
                )
            if stale >= config.patience or (stop_after is not None and epoch + 1 - start_epoch >= stop_after):
                break
    finally:
        if pool is not None:
            pool.shutdown()
    if best_state is not None:
        net.load_state_dict(best_state)
    return trained


def grid_search(
    train_tracks: Sequence[Track],
    train_labels: Sequence[int] | np.ndarray,
    val_tracks: Sequence[Track],
    val_labels: Sequence[int] | np.ndarray,
    *,
    n_classes: int,
    sample_rate: int,
    config: TrainConfig,
    momenta: Sequence[float],
    weight_decays: Sequence[float],
    epochs: int,
    progress: bool = False,
) -> tuple[TrainConfig, list[dict[str, float]]]:
    """Short runs over momentum x weight decay, scored on the validation split (best track accuracy, then
    lowest loss); returns ``config`` with the winning pair, and every run's score."""
    from dataclasses import replace

    results = []
    for momentum in momenta:
        for weight_decay in weight_decays:
            trial = replace(config, momentum=momentum, weight_decay=weight_decay, epochs=epochs)
            trained = train_network(
                train_tracks,
                train_labels,
                val_tracks,
                val_labels,
                n_classes=n_classes,
                sample_rate=sample_rate,
                config=trial,
                progress=progress,
                stage=f"grid search, momentum {momentum:g}, weight decay {weight_decay:g}",
            )
            best = max(trained.history, key=lambda h: (h["val_track_accuracy"], -h["val_loss"]))
            results.append(
                {
                    "momentum": momentum,
                    "weight_decay": weight_decay,
                    "val_track_accuracy": best["val_track_accuracy"],
                    "val_loss": best["val_loss"],
                }
            )
    winner = max(results, key=lambda r: (r["val_track_accuracy"], -r["val_loss"]))
    return replace(config, momentum=winner["momentum"], weight_decay=winner["weight_decay"]), results
