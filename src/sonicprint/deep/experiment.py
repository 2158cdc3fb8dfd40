"""Cross-validated experiment with a spectrogram network: clip and track metrics, robustness, curves."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ..collection import CollectionSource, decoder_counts, tracks_hash
from ..config import DeepExperimentConfig, config_changes, load_config_file, save_config, to_dict
from ..errors import ConfigError, FileProblem
from ..evaluation import (
    background_summary,
    crossing_groups,
    embedding_map,
    evaluate,
    evaluated_mask,
    kfold_splits,
    label_seen_in_training,
    not_scored_note,
    require_background_tracks,
    require_scored_tracks,
    split_description,
    train_val_test_split,
    unknown_share,
)
from ..models import maker_centroids
from ..pipeline import Workspace, build_collection, decode_windows, require_sound
from .serialize import save_network
from .train import RESUMABLE_UNDER_OTHER as TRAIN_RESUMABLE_UNDER_OTHER
from .train import (
    ClipSet,
    grid_search,
    predict_clips,
    track_embeddings,
    track_log_probs,
    train_network,
)
from .transforms import CONDITIONS


def load_tracks(
    workspace: Workspace, config: DeepExperimentConfig, *, progress: bool
) -> tuple[list[Any], list[str], list[list[np.ndarray]], list[tuple[str, str]]]:
    """Usable tracks of labels with enough tracks, each decoded as its list of windows; the others (not
    decoded, or silent) as ``(path, problem)``."""
    from tqdm import tqdm

    from ..collection import OK

    rows = workspace.store.tracks(status=OK)
    counts = Counter(r.label for r in rows)
    rows = [r for r in rows if counts[r.label] >= config.collection.min_tracks_per_label]
    kept, audio, errors = [], [], []
    for row in tqdm(rows, desc="decoding tracks", disable=not progress, leave=False):
        try:
            windows = decode_windows(row.path, config.audio, float(row.duration_s or 0.0))
            require_sound(row.path, windows)
        except FileProblem as exc:  # reported, never fatal for the others
            errors.append((row.path, exc.problem))
            continue
        except Exception as exc:
            errors.append((row.path, f"not decoded: {exc}"))
            continue
        audio.append(windows)
        kept.append(row)
    return kept, [r.label for r in kept], audio, errors


#: settings a run may resume under other values of: how it runs, or what is evaluated after training
RESUMABLE_UNDER_OTHER = (
    *(f"train.{name}" for name in TRAIN_RESUMABLE_UNDER_OTHER),
    "robustness",
    "maps",
    "calibration",
)


def _require_same_run(saved_config: Path, config: DeepExperimentConfig) -> None:
    """A ConfigError when the run in ``saved_config``'s folder was started with other settings."""
    if not saved_config.is_file():
        return
    before = load_config_file(saved_config, DeepExperimentConfig)
    changed = config_changes(to_dict(before), to_dict(config), ignore=RESUMABLE_UNDER_OTHER)
    if changed:
        raise ConfigError(
            f"{saved_config.parent} was started with other settings ({'; '.join(changed)}); resume with "
            "the same settings (--config " + str(saved_config) + " gives them), or write to another "
            "output folder to start afresh"
        )


def _clear_earlier_run(out: Path, *, overwrite: bool) -> None:
    """Checkpoints of an earlier run in ``out`` are hours of training: a ConfigError unless ``overwrite``,
    which removes them (so that none of them is taken for this run's)."""
    earlier = sorted(out.glob("*/last.pt"))
    if earlier and not overwrite:
        shown = ", ".join(str(p.relative_to(out)) for p in earlier[:3]) + (
            ", ..." if len(earlier) > 3 else ""
        )
        raise ConfigError(
            f"{out} holds the checkpoints of an earlier run ({shown}); resume it (--resume), start afresh "
            "over it (--overwrite), or write to another output folder"
        )
    for checkpoint in earlier:
        checkpoint.unlink()


def _require_same_data(record: Path, data: str, *, resume: bool) -> None:
    """Resuming on another collection (tracks added, removed or relabelled) would mix two experiments:
    a ConfigError. The run's data hash is written down for the next resume."""
    before = record.read_text(encoding="utf-8").strip() if resume and record.is_file() else data
    if before != data:
        raise ConfigError(
            f"{record.parent} was started on another collection (data hash {before}, "
            f"now {data}: tracks added, removed or relabelled); write to another output folder to start "
            "afresh"
        )
    record.write_text(data + "\n", encoding="utf-8")


def metrics_grouping(config: DeepExperimentConfig) -> str:
    return config.split.group or "track"


def validate_deep_config(config: DeepExperimentConfig) -> None:
    """Fail before any work when the network, one of its parameters, a robustness condition, a map method
    or the device is wrong (each error lists the known names or the parameters the network takes). The
    network is built once, so a bad parameter value fails here too."""
    from ..evaluation import MAPS
    from .networks import NETWORKS
    from .train import pick_device

    pick_device(config.train.device)

    for name in config.robustness:
        CONDITIONS.get(name)
    for method in config.maps:
        MAPS.get(method)
    t = config.train
    NETWORKS.create(t.network, t.network_params, fixed={"n_mels": t.n_mels, "n_classes": 2})


def run_deep_experiment(
    source: CollectionSource,
    config: DeepExperimentConfig,
    *,
    workspace: str | Path,
    out_dir: str | Path,
    progress: bool = True,
    resume: bool = False,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Train and evaluate ``config.train.network`` fold by fold; writes ``metrics.json``, ``report.html``,
    ``training_curves.png`` and a checkpoint folder per fold. ``resume=True`` continues interrupted folds
    (refused when the settings or the collection changed); otherwise an earlier run's checkpoints in
    ``out_dir`` are refused unless ``overwrite``."""
    validate_deep_config(config)
    out = Path(out_dir)
    if resume:
        _require_same_run(out / "config.json", config)
    else:
        _clear_earlier_run(out, overwrite=overwrite)
    out.mkdir(parents=True, exist_ok=True)
    save_config(config, out / "config.json")
    with Workspace(workspace) as ws:
        ingest = build_collection(
            ws, source, min_duration_s=config.collection.min_duration_s, progress=progress
        )
        rows, labels, audio, errors = load_tracks(ws, config, progress=progress)
    collection_hash = tracks_hash([r.content_hash or "" for r in rows], labels, [r.groups for r in rows])
    _require_same_data(out / "data_hash.txt", collection_hash, resume=resume)
    problems = ingest.lines() + [f"{path}: {reason}" for path, reason in errors]
    # written first: it explains the failure below
    (out / "problems.txt").write_text(
        "".join(f"{line}\n" for line in problems) or "no problems\n", encoding="utf-8"
    )
    if len(set(labels)) < 2:
        missing = ingest.missing_note()
        raise ValueError(
            f"need at least 2 labels with {config.collection.min_tracks_per_label}+ usable tracks, found "
            f"{len(set(labels))} in {len(labels)} usable tracks{'; ' * bool(missing)}{missing} "
            f"(see {out / 'problems.txt'})"
        )
    background = config.collection.background
    require_background_tracks(labels, background)
    names = sorted(set(labels))
    y = np.array([names.index(lab) for lab in labels])
    groups = [
        r.groups.get(config.split.group) or r.content_hash if config.split.group else r.content_hash
        for r in rows
    ]
    rate = config.audio.sample_rate
    clip_n, hop_n = int(config.train.clip_s * rate), int(config.train.hop_s * rate)
    track_lp = {cond: np.zeros((len(y), len(names))) for cond in config.robustness}
    clip_truth, clip_pred, histories, epoch_seconds, embeddings = [], [], [], [], np.zeros((len(y), 0))
    holdout = config.split.method == "holdout"
    part_of = np.full(len(y), "", dtype=object)  # the fold (or holdout part) that predicted each track
    seen = np.zeros(len(y), dtype=bool)  # tested by a network that trained on the track's label
    train_config = config.train
    grid_results: list[dict[str, float]] = []
    inference_s = inference_audio_s = spectrogram_seconds = 0.0

    def inner_split(indices: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        inner_groups = [groups[i] for i in indices]
        n_inner = max(2, min(round(1 / config.val_fraction), len(set(inner_groups))))
        fit, check = kfold_splits([labels[i] for i in indices], inner_groups, n_folds=n_inner, seed=seed)[0]
        return indices[fit], indices[check]

    def data(train: np.ndarray, val: np.ndarray) -> tuple[list[Any], np.ndarray, list[Any], np.ndarray]:
        """The training and validation tracks and labels, as train_network and grid_search take them."""
        return [audio[i] for i in train], y[train], [audio[i] for i in val], y[val]

    def fit(train: np.ndarray, val: np.ndarray, settings: Any, checkpoint_dir: Path, stage: str) -> Any:
        return train_network(
            *data(train, val),
            n_classes=len(names),
            sample_rate=rate,
            config=settings,
            checkpoint_dir=checkpoint_dir,
            resume=resume,
            progress=progress,
            stage=stage,
        )

    # One entry per network trained: (checkpoint folder, stage name, training and validation tracks,
    # [(part, tracks it predicts)]). A holdout's validation part is predicted too, for calibration only.
    trainings: list[tuple[str, str, np.ndarray, np.ndarray, list[tuple[str, np.ndarray]]]] = []
    s = config.split
    if holdout:
        train, val, test = train_val_test_split(
            labels, groups, test_fraction=s.test_fraction, val_fraction=s.val_fraction, seed=s.seed
        )
        seen[test] = label_seen_in_training(labels, train, test)
        require_scored_tracks(seen[test], metrics_grouping(config))
        if not len(val):  # val_fraction 0: early stopping still needs tracks of its own
            train, val = inner_split(train, s.seed)
        seen[val] = label_seen_in_training(labels, train, val)
        trainings.append(("holdout", "holdout", train, val, [("val", val), ("test", test)]))
    else:
        folds = kfold_splits(labels, groups, n_folds=s.folds, seed=s.seed)
        for train_val, test in folds:
            seen[test] = label_seen_in_training(labels, train_val, test)
        require_scored_tracks(seen, metrics_grouping(config))  # before the inner splits: they need 2+ groups
        for fold, (train_val, test) in enumerate(folds):
            train, val = inner_split(train_val, s.seed + fold)
            seen[test] = label_seen_in_training(labels, train, test)  # what the network trains on
            trainings.append(
                (f"fold{fold}", f"fold {fold + 1}/{len(folds)}", train, val, [(str(fold), test)])
            )

    for number, (folder, stage, train, val, parts) in enumerate(trainings):
        if crossing_groups(groups, train, val, *(tracks for _, tracks in parts if tracks is not val)):
            raise RuntimeError("split leak")  # guarded: every number below would be void
        if number == 0 and (config.grid_momentum or config.grid_weight_decay):
            train_config, grid_results = grid_search(
                *data(train, val),
                n_classes=len(names),
                sample_rate=rate,
                config=config.train,
                momenta=config.grid_momentum or (config.train.momentum,),
                weight_decays=config.grid_weight_decay or (config.train.weight_decay,),
                epochs=config.grid_epochs,
                progress=progress,
            )
        # The folds train with the configured settings: the grid search saw fold 0's tracks, which other
        # folds test on, so its choice goes to the final model only. A holdout's search saw its training
        # and validation parts alone, so its network trains with the choice, as the study's protocol has it.
        trained = fit(train, val, train_config if holdout else config.train, out / folder, stage)
        histories.append(trained.history)
        epoch_seconds += trained.epoch_seconds
        spectrogram_seconds += trained.spectrogram_seconds
        for part, test in parts:
            part_of[test] = part
            reported = part != "val"  # a holdout's validation part serves calibration only
            for cond in config.robustness:
                rng = np.random.default_rng([config.split.seed, number])
                transform = CONDITIONS.get(cond)
                tracks = [[transform(seg, rate, rng) for seg in audio[i]] for i in test]
                clips = ClipSet.cut(tracks, y[test], clip_samples=clip_n, hop_samples=hop_n)
                started = time.perf_counter()
                lp, emb = predict_clips(trained, clips, embeddings=reported and cond == "clean")
                track_lp[cond][test] = track_log_probs(lp, clips.clip_track, len(test))
                if not (reported and cond == "clean"):
                    continue
                inference_s += time.perf_counter() - started
                inference_audio_s += sum(len(seg) for i in test for seg in audio[i]) / rate
                scored_clips = seen[test][clips.clip_track]
                clip_truth += clips.clip_labels[scored_clips].tolist()
                clip_pred += lp[scored_clips].argmax(1).tolist()
                assert emb is not None
                if embeddings.shape[1] != emb.shape[1]:
                    embeddings = np.zeros((len(y), emb.shape[1]))
                embeddings[test] = track_embeddings(emb, clips.clip_track, len(test))
    temperature = None
    if config.calibration == "temperature":
        track_lp, temperature = _calibrated(track_lp, y, part_of, seen)
    if config.final_model:
        train, val = inner_split(np.arange(len(y)), config.split.seed + 1000)
        final = fit(train, val, train_config, out / "final", "final model")
        every_clip = ClipSet.cut(audio, y, clip_samples=clip_n, hop_samples=hop_n)
        _, emb = predict_clips(final, every_clip, embeddings=True)
        assert emb is not None
        on_tracks = track_embeddings(emb, every_clip.clip_track, len(y))
        save_network(
            out / "model.pt",
            final,
            labels=names,
            audio=config.audio,
            maker_centroids=maker_centroids(on_tracks, labels, names),
            extra={
                "background": background,
                "data_hash": collection_hash,
                "grouping": metrics_grouping(config),
                **({"temperature": temperature} if temperature else {}),
            },
        )
    clean = track_lp["clean"] if "clean" in track_lp else next(iter(track_lp.values()))
    grouping = metrics_grouping(config)
    evaluated = evaluated_mask(part_of, holdout=holdout)
    scored = evaluated & seen
    evaluation = (
        split_description(
            method=s.method,
            folds=s.folds,
            test_fraction=s.test_fraction,
            val_fraction=s.val_fraction,
            grouping=grouping,
        )
        + "; clips cut after the split"
    )
    not_scored = Counter(lab for lab, ok in zip(labels, evaluated & ~seen) if ok)
    if not_scored:
        evaluation += "; " + not_scored_note(not_scored, grouping)
    if temperature is not None:
        evaluation += (
            "; probabilities temperature-scaled, "
            + (
                "the test part's by a temperature fitted on the validation part"
                if holdout
                else "each fold's by a temperature fitted on the other folds' held-out tracks"
            )
            + f" (the saved network's, fitted on all of them: {temperature:.2f})"
        )
    metrics: dict[str, Any] = {
        "network": config.train.network,
        "grouping": grouping,
        "evaluation": evaluation,
        "track": evaluate(
            [lab for lab, ok in zip(labels, scored) if ok],
            [names[i] for i in clean[scored].argmax(1)],
            names,
            probabilities=np.exp(clean[scored]),
        ),
        "clip": evaluate([names[i] for i in clip_truth], [names[i] for i in clip_pred], names)
        if clip_truth
        else None,
        "robustness": {
            cond: float(np.mean(lp[scored].argmax(1) == y[scored])) for cond, lp in track_lp.items()
        },
        "epoch_seconds_mean": float(np.mean(epoch_seconds)) if epoch_seconds else 0.0,
        # computing the spectrograms kept for every epoch, once per training (not in the epochs' seconds)
        "spectrogram_seconds": spectrogram_seconds,
        "inference_seconds_per_30s": 30.0 * inference_s / inference_audio_s if inference_audio_s else 0.0,
        "history": histories,
        "grid_search": grid_results,
        "final_model_train_config": to_dict(train_config),
        "n_tracks": len(y),
        "data_hash": collection_hash,
        "decoders": decoder_counts(r.backend for r in rows),
        "n_scored": int(scored.sum()),
        "not_scored": dict(sorted(not_scored.items())),
        "errors": errors,
        "config": to_dict(config),
    }
    if temperature is not None:
        metrics["track"]["calibration"]["temperature"] = temperature
    if not_scored:  # tracks of makers no network heard: the share an "unknown" threshold would catch
        metrics["track"]["not_scored_unknown"] = unknown_share(np.exp(clean[evaluated & ~seen]))
    if background:
        metrics["track"]["background"] = background_summary(
            [lab for lab, ok in zip(labels, scored) if ok],
            np.exp(clean[scored]),
            names,
            background=background,
        )
    maps = {}
    for method in config.maps:
        try:
            maps[method] = embedding_map(embeddings[evaluated], method=method, seed=config.split.seed)
        except ValueError as exc:
            metrics.setdefault("map_errors", {})[method] = str(exc)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    _write_predictions(out / "predictions.csv", rows, labels, names, track_lp, part_of)
    _write_report(out, metrics, maps, [lab for lab, ok in zip(labels, evaluated) if ok])
    return metrics


def _calibrated(
    track_lp: dict[str, np.ndarray], truth: np.ndarray, part_of: np.ndarray, seen: np.ndarray
) -> tuple[dict[str, np.ndarray], float]:
    """Every condition's track log-probabilities scaled by each fold's temperature, fitted on the other
    folds' clean held-out tracks (a network scales whatever it hears by its one temperature), and the
    temperature fitted on all clean held-out tracks, for the final network."""
    from ..models import apply_temperature, fit_temperature, out_of_fold_temperatures

    clean = np.exp(track_lp["clean"] if "clean" in track_lp else next(iter(track_lp.values())))
    usable = seen & (part_of != "")
    scaled = {cond: lp.copy() for cond, lp in track_lp.items()}
    for part, temperature in out_of_fold_temperatures(clean, truth, part_of, usable).items():
        rows = part_of == part
        for cond, lp in track_lp.items():
            with np.errstate(divide="ignore"):
                scaled[cond][rows] = np.log(apply_temperature(np.exp(lp[rows]), temperature))
    return scaled, fit_temperature(clean[usable], truth[usable])


def _write_predictions(
    path: Path,
    rows: list[Any],
    labels: list[str],
    names: list[str],
    track_lp: dict[str, np.ndarray],
    part_of: np.ndarray,
) -> None:
    """One row per predicted track: its content hash, fold (``val`` or ``test`` in a holdout), the verdict
    under each condition and the clean (or first) condition's probability of each label, for fusing with
    other models' track scores."""
    import csv

    conditions = list(track_lp)
    scored = "clean" if "clean" in track_lp else conditions[0]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "path",
                "content_hash",
                "label",
                "fold",
                *[f"predicted:{c}" for c in conditions],
                *[f"probability:{name}" for name in names],
            ]
        )
        for i, row in enumerate(rows):
            if not part_of[i]:
                continue  # a holdout's training track: not predicted
            writer.writerow(
                [
                    row.path,
                    row.content_hash,
                    labels[i],
                    part_of[i],
                    *[names[int(track_lp[c][i].argmax())] for c in conditions],
                    *[f"{p:.6g}" for p in np.exp(track_lp[scored][i])],
                ]
            )


def _write_report(out: Path, metrics: dict[str, Any], maps: dict[str, np.ndarray], labels: list[str]) -> None:
    import html

    from ..report import _pyplot, decoders_sentence, plot_map, unknown_table_html

    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    holdout = metrics["config"]["split"]["method"] == "holdout"
    for k, history in enumerate(metrics["history"]):
        epochs = [h["epoch"] for h in history]
        name = "holdout" if holdout else f"fold {k}"
        axes[0].plot(epochs, [h["train_loss"] for h in history], color=f"C{k}", label=f"{name} train")
        axes[0].plot(
            epochs, [h["val_loss"] for h in history], color=f"C{k}", linestyle="--", label=f"{name} val"
        )
        axes[1].plot(epochs, [h["val_track_accuracy"] for h in history], color=f"C{k}", label=f"{name} track")
        axes[1].plot(epochs, [h["val_clip_accuracy"] for h in history], color=f"C{k}", linestyle=":")
    axes[0].set_title("loss (solid: train, dashed: validation)")
    axes[1].set_title("validation accuracy (solid: track, dotted: clip)")
    for ax in axes:
        ax.set_xlabel("epoch")
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out / "training_curves.png", dpi=100)
    plt.close(fig)
    images = ["training_curves.png"]
    for method, points in maps.items():
        images.append(
            plot_map(
                points,
                labels,
                out / f"map_{method}.png",
                title=f"{method} map of the tracks (penultimate layer, mean over clips)",
            ).name
        )
    t, c = metrics["track"], metrics["clip"]
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{v:.3f}</td></tr>" for k, v in metrics["robustness"].items()
    )
    clip_cells = (
        f"<td>{c['accuracy']:.3f}</td><td>{c['macro']['f1']:.3f}</td>" if c else "<td>-</td><td>-</td>"
    )
    title = html.escape(metrics["network"])
    style = (
        "body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto}"
        "td,th{border:1px solid #ccc;padding:.3em .6em}table{border-collapse:collapse}img{max-width:100%}"
    )
    track_cells = f"<td>{t['accuracy']:.3f}</td><td>{t['macro']['f1']:.3f}</td>"
    pictures = "".join(f'<p><img src="{n}" alt="{n}"></p>' for n in images)
    body = f"""<!doctype html><html><head><meta charset="utf-8"><title>Sonicprint: {title}</title>
<style>{style}</style></head><body>
<h1>{title}: {metrics["n_tracks"]} tracks</h1>
<p>{html.escape(metrics["evaluation"])}.
Mean training time per epoch {metrics["epoch_seconds_mean"]:.1f} s. Data hash
<code>{metrics["data_hash"]}</code>; the resolved settings are in <code>config.json</code>.
{decoders_sentence(metrics["decoders"])}</p>
<table><tr><th></th><th>accuracy</th><th>macro F1</th></tr>
<tr><td>clip</td>{clip_cells}</tr>
<tr><td>track (mean log-probability of its clips)</td>{track_cells}</tr></table>
{unknown_table_html(t)}
<h2>Robustness: track accuracy under each test-time condition</h2><table>{rows}</table>
{pictures}
</body></html>"""
    (out / "report.html").write_text(body, encoding="utf-8")
