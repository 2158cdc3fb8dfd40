"""Command line: each subcommand parses its arguments and calls one library function."""

from __future__ import annotations

import argparse
import codecs
import io
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from . import __version__
from .config import CleaningConfig, CollectionConfig, FeatureConfig, ModelConfig, SplitConfig, TrainConfig
from .errors import ConfigError, SonicprintError
from .registry import Registry, UnknownNameError


def _param(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _count(text: str) -> int:
    """A whole number of at least 1 (how many makers or files to list)."""
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _probability(text: str) -> float:
    """A probability threshold in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a probability in [0, 1], got {value:g}")
    return value


SOURCE_HELP = (
    "manifest (.csv/.parquet), a folder ROOT/<label>/[<album>/]<file>, or with --from-tags a folder of "
    "tagged files"
)
HOLDOUT_HELP = "one train/val/test split (default 60/20/20) instead of k-fold; metrics on the test part"
JSON_HELP = "also write the metrics JSON here"
NO_MAPS_HELP = "skip the t-SNE/UMAP maps"
MODEL_HELP = "a model saved by 'experiment' or 'cnn' (model.pt), or the folder it was saved in"


def _model_file(text: str) -> str:
    """A model file; an experiment's or network run's output folder stands for the model.pt it holds."""
    saved = Path(text) / "model.pt"
    return str(saved) if saved.is_file() else text


def _columns(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(",") if c.strip())


def _numbers(text: str) -> tuple[float, ...]:
    """Comma-separated numbers, at least one."""
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one number")
    return values


def _shares(text: str) -> tuple[float, ...]:
    """Comma-separated shares strictly between 0 and 1, sorted, each once (a learning curve's points)."""
    from .config import check_learning_curve_shares

    values = _numbers(text)
    try:
        check_learning_curve_shares(values)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return tuple(sorted(set(values)))


#: the cnn command's folds when neither a flag nor a config file sets them (a library config says 3)
CNN_DEFAULT_FOLDS = 5


MIN_TRACKS_HELP = (
    f"keep labels with at least this many tracks (default: {CollectionConfig.min_tracks_per_label})"
)
MIN_DURATION_HELP = f"skip files shorter than this (seconds; default: {CollectionConfig.min_duration_s:g})"
GROUP_HELP = (
    "column whose values must never straddle a split (default: track); a label whose tracks all share "
    "one value cannot be scored and is listed as such"
)


WORKERS_HELP = (
    "processes sharing the files, each loading the model once (0: one per CPU core; default: 1, this "
    "process); the results do not depend on it"
)


def _workers(text: str) -> int:
    """A worker count: 0 (one per core) or more."""
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (one per core) or more, got {value}")
    return value


FILES_HELP = "audio files or folders (searched recursively for audio files)"
FILES_FROM_HELP = "also read the files to use from this text file, one path per line"


def _files(args: argparse.Namespace) -> list[str]:
    """The command's input files: its paths (folders expanded) and those listed in ``--files-from``."""
    from .collection import expand_inputs

    files = expand_inputs(args.files, files_from=args.files_from)
    if not files and not getattr(args, "index", None):
        raise ValueError("no input files: name files or folders, or pass --files-from LIST")
    return files


def _add_collection_options(parser: argparse.ArgumentParser, *, splits: bool = True) -> None:
    """What a labelled collection is read with, the same for every command that reads one (``splits``:
    the command splits it, so it takes ``--group``)."""
    parser.add_argument("--label", help="label column (producer, artist, composer, ...)")
    parser.add_argument(
        "--audio-root",
        help="folder that the manifest's relative paths are under (default: the manifest's own folder)",
    )
    parser.add_argument("--path-column", help="the manifest's column of file paths (default: path)")
    parser.add_argument(
        "--group-columns",
        type=_columns,
        default=None,
        help="comma-separated group columns to read (album,artist,game)",
    )
    if splits:
        parser.add_argument("--group", help=GROUP_HELP)
    parser.add_argument("--from-tags", action="store_true", help="label files from their own tags")


def _add_window_options(parser: argparse.ArgumentParser) -> None:
    """How much of each track is read: windows spread evenly over it."""
    parser.add_argument(
        "--windows",
        type=_count,
        metavar="N",
        help=f"windows read from each track, spread over it (default: {FeatureConfig.n_windows})",
    )
    parser.add_argument(
        "--window-length",
        type=float,
        metavar="SECONDS",
        help=f"length of each window (default: {FeatureConfig.window_s:g}); a shorter track is read whole",
    )


def _windowed(config: Any, args: argparse.Namespace) -> Any:
    """``config`` (a FeatureConfig) with the windows the command line asks for."""
    if args.windows is not None:
        config = replace(config, n_windows=args.windows)
    if args.window_length is not None:
        config = replace(config, window_s=args.window_length)
    return config


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sonicprint", description="Tell who made a recording from the audio."
    )
    parser.add_argument("--version", action="version", version=f"sonicprint {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="generate the built-in synthetic collection and run everything on it")
    demo.add_argument("--out", default="sonicprint-demo", help="output folder (default: %(default)s)")
    demo.add_argument(
        "--seed", type=int, default=0, help="seed of the generated collection (default: %(default)s)"
    )
    demo.add_argument(
        "--executor", default="process", help="process (default: one worker per core) or serial"
    )
    demo.add_argument("--quiet", action="store_true", help="no progress bars")

    gen = sub.add_parser("generate", help="write a synthetic labelled collection (producers x artists)")
    gen.add_argument(
        "out",
        help="folder for manifest.csv (path, producer, artist, album), audio/ and queries/ "
        "(held-out files); a collection generated there before is replaced",
    )
    gen.add_argument("--seed", type=int, default=0, help="the same seed writes the same files (default 0)")
    gen.add_argument("--producers", type=int, default=5, help="how many producers (default 5)")
    gen.add_argument("--artists", type=int, default=3, help="each records with every producer (default 3)")
    gen.add_argument("--tracks-per-pair", type=int, default=4, help="per producer and artist (default 4)")
    gen.add_argument("--duration", type=float, default=20.0, help="seconds per track (default 20)")

    exp = sub.add_parser("experiment", help="cross-validated experiment on a labelled collection")
    exp.add_argument("source", help=SOURCE_HELP)
    _add_collection_options(exp)
    exp.add_argument("--model", help=f"model name (see 'sonicprint list'; default: {ModelConfig.name})")
    exp.add_argument(
        "--model-param",
        type=_param,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a constructor argument of the model (JSON value or string), e.g. priors=uniform; repeatable",
    )
    exp.add_argument(
        "--features",
        type=_columns,
        help="feature extractor name(s), comma-separated to combine (see 'sonicprint list'); "
        "NAME@SEPARATOR:STEM computes one on a separated stem, e.g. track_stats@repet_sim:vocals",
    )
    exp.add_argument(
        "--fusion",
        choices=("early", "late"),
        help="several feature sets: concatenate them into one model (early, default) or train one model "
        "per set and fuse their probabilities (late)",
    )
    exp.add_argument(
        "--seed-method",
        action="store_true",
        help="the first study's setting: MFCC matrix of one 30 s window, PCA(12), KNN",
    )
    exp.add_argument("--folds", type=int, help=f"cross-validation folds (default: {SplitConfig.folds})")
    exp.add_argument("--holdout", action="store_true", help=HOLDOUT_HELP)
    exp.add_argument(
        "--calibrate",
        action="store_true",
        help="temperature-scale the probabilities, fitted on held-out predictions, so that they say how "
        "often the model is right (the saved model keeps the temperature)",
    )
    exp.add_argument("--seed", type=int, help="seed of the split (default 0)")
    exp.add_argument(
        "--repeats",
        type=int,
        metavar="N",
        help="run the evaluation N times with split seeds SEED..SEED+N-1 and report the mean and spread",
    )
    exp.add_argument(
        "--learning-curve",
        type=_shares,
        metavar="SHARES",
        help="also retrain each part on these shares of its training tracks per maker (e.g. 0.25,0.5,0.75) "
        "and report accuracy against them: does accuracy still climb with more tracks per maker?",
    )
    exp.add_argument(
        "--select-among",
        metavar="FILE",
        help="TOML or JSON file of other models (candidates = [{name = 'mlp', params = {...}}, ...]; "
        "inner_folds = 3): each part also chooses among --model and these by a cross-validation of its "
        "own training tracks, and the report scores the choices beside each model's own accuracy; the "
        "run keeps the model with the best accuracy (--calibrate applies to every one)",
    )
    exp.add_argument("--min-tracks", type=int, help=MIN_TRACKS_HELP)
    exp.add_argument(
        "--background",
        metavar="LABEL",
        help="the label value of tracks by none of the makers (e.g. other): learnt as one more class, "
        "so the saved model answers 'unknown' for music like theirs; group them by their real maker "
        "(--group) to measure it on makers it never heard",
    )
    exp.add_argument("--min-duration", type=float, help=MIN_DURATION_HELP)
    exp.add_argument("--config", help="TOML or JSON config file; flags override it")
    exp.add_argument(
        "--workspace",
        default=".sonicprint",
        help="collection database and feature cache, shared by runs (default: %(default)s)",
    )
    exp.add_argument("--out", default="runs/experiment", help="report folder (default: %(default)s)")
    exp.add_argument("--json", help=JSON_HELP)
    exp.add_argument("--executor", help="process (default: one worker per core), serial or ray")
    exp.add_argument("--workers", type=int, help="worker processes (default: one per CPU core)")
    exp.add_argument("--no-maps", action="store_true", help=NO_MAPS_HELP)
    _add_window_options(exp)
    exp.add_argument(
        "--per-window",
        action="store_true",
        help="train on each window of a track and decide per track (mean window log-probability)",
    )
    exp.add_argument(
        "--augment-copies",
        type=int,
        metavar="N",
        help="train also on N randomly degraded copies of each training track (tempo, pitch, filters, "
        "noise, room, MP3) for robustness; evaluated tracks stay as they are",
    )
    exp.add_argument(
        "--robustness",
        action="store_true",
        help="also score each part's held-out tracks sped up, slowed down, pitch-shifted, filtered, as MP3, "
        "with noise and in a room (the same model; a table in the report)",
    )
    exp.add_argument("--quiet", action="store_true", help="no progress bars")

    clean = sub.add_parser(
        "clean",
        help="leave out too-short tracks, instrumentals and tracks by several performers (the second "
        "study's cleaning); writes a manifest of the rest",
    )
    clean.add_argument("source", help=SOURCE_HELP)
    _add_collection_options(clean, splits=False)
    clean.add_argument(
        "--min-duration",
        type=float,
        help="leave out files shorter than this (seconds; default: "
        f"{CleaningConfig().collection.min_duration_s:g}, as the second study)",
    )
    clean.add_argument(
        "--keep-instrumental",
        action="store_true",
        help="do not leave out instrumentals (the vocal screen is skipped: no musicnn needed)",
    )
    clean.add_argument(
        "--instrumental-below",
        type=float,
        metavar="SCORE",
        help="vocal score under which a track counts as instrumental (default: "
        f"{CleaningConfig.instrumental_below:g}; every track's score is in screening.csv)",
    )
    clean.add_argument(
        "--artist-column",
        metavar="COLUMN",
        help="column of performer credits: a track credited to several ('A feat. B', 'A & B') is left out "
        "(may be the label column)",
    )
    clean.add_argument(
        "--title-column",
        metavar="COLUMN",
        help="column of titles: a track whose title credits a guest ('Song (feat. B)') is left out",
    )
    clean.add_argument("--config", help="TOML or JSON cleaning config file; flags override it")
    clean.add_argument(
        "--workspace",
        default=".sonicprint",
        help="collection database and feature cache, shared by runs (default: %(default)s)",
    )
    clean.add_argument(
        "--out",
        default="runs/clean",
        help="folder for cleaned.csv, screening.csv, summary.json, problems.txt, config.json "
        "(default: %(default)s)",
    )
    clean.add_argument("--executor", help="process (default: one worker per core), serial or ray")
    clean.add_argument("--workers", type=int, help="worker processes (default: one per CPU core)")
    clean.add_argument("--quiet", action="store_true", help="no progress bars")

    pred = sub.add_parser("predict", help="top-k makers of each file with a saved model")
    pred.add_argument("model", type=_model_file, help=MODEL_HELP)
    pred.add_argument("files", nargs="*", help=FILES_HELP)
    pred.add_argument("--files-from", metavar="LIST", help=FILES_FROM_HELP)
    pred.add_argument(
        "--top-k", type=_count, default=3, help="how many makers to list (default: %(default)s)"
    )
    pred.add_argument(
        "--unknown-below",
        type=_probability,
        default=0.0,
        help="answer 'unknown' when the best probability is below this",
    )
    pred.add_argument("--json", action="store_true", help="print JSON instead of a table")
    pred.add_argument(
        "--out",
        metavar="CSV",
        help="write one row per file to this CSV as each is done; run again to resume after an interruption",
    )
    pred.add_argument("--workers", type=_workers, default=1, help=WORKERS_HELP)
    pred.add_argument("--quiet", action="store_true", help="no progress bar (with --out)")

    cnn = sub.add_parser("cnn", help="cross-validated spectrogram network on clips, decided per track")
    cnn.add_argument("source", help=SOURCE_HELP)
    _add_collection_options(cnn)
    cnn.add_argument(
        "--network", help=f"resnet, resnext, densenet, crnn or wavenet (default: {TrainConfig.network})"
    )
    cnn.add_argument(
        "--network-param",
        type=_param,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a constructor argument of the network (JSON value or string), e.g. pooling=mean_std",
    )
    cnn.add_argument("--folds", type=int, help=f"cross-validation folds (default: {CNN_DEFAULT_FOLDS})")
    cnn.add_argument("--holdout", action="store_true", help=HOLDOUT_HELP)
    cnn.add_argument("--min-tracks", type=int, help=MIN_TRACKS_HELP)
    cnn.add_argument(
        "--background", metavar="LABEL", help="as for 'experiment': tracks by none of the makers"
    )
    cnn.add_argument("--min-duration", type=float, help=MIN_DURATION_HELP)
    _add_window_options(cnn)
    cnn.add_argument("--clip", type=float, help=f"clip length in seconds (default: {TrainConfig.clip_s:g})")
    cnn.add_argument("--hop", type=float, help=f"clip hop in seconds (default: {TrainConfig.hop_s:g})")
    cnn.add_argument(
        "--epochs",
        type=int,
        help=f"most epochs per fold; early stopping may end sooner (default: {TrainConfig.epochs})",
    )
    cnn.add_argument(
        "--patience",
        type=int,
        help=f"stop after this many epochs without a better validation (default: {TrainConfig.patience})",
    )
    cnn.add_argument("--lr", type=float, help="learning rate (default: from an LR range test)")
    cnn.add_argument(
        "--lr-range-steps",
        type=int,
        help="batches the LR range test runs per fold, the learning rate rising from 1e-5 to 1 "
        f"(default: {TrainConfig.lr_range_steps}; fewer for a quick run on a small collection)",
    )
    cnn.add_argument(
        "--optimizer",
        choices=["sgd", "adamw"],
        help="SGD with momentum and weight decay (default), or AdamW",
    )
    cnn.add_argument("--momentum", type=float, help=f"SGD momentum (default: {TrainConfig.momentum:g})")
    cnn.add_argument(
        "--weight-decay", type=float, help=f"weight decay (default: {TrainConfig.weight_decay:g})"
    )
    cnn.add_argument(
        "--grid-momentum",
        type=_numbers,
        metavar="M1,M2,...",
        help="momenta to search with --grid-weight-decay on the first fold's validation split before "
        "the final model is trained (the cross-validated figures keep --momentum; a --holdout network "
        "trains with the choice)",
    )
    cnn.add_argument(
        "--grid-weight-decay",
        type=_numbers,
        metavar="D1,D2,...",
        help="weight decays to search with --grid-momentum",
    )
    cnn.add_argument(
        "--augment",
        choices=["none", "fast", "robust"],
        help="training-time augmentation: none (default), fast (varispeed pitch, no tempo change) or "
        "robust (pitch, tempo, gain, filters, noise, reverb, MP3, SpecAugment, mixup)",
    )
    cnn.add_argument(
        "--stem",
        metavar="SEPARATOR:STEM",
        help="train on a separated stem, e.g. repet_sim:vocals",
    )
    cnn.add_argument("--robustness", action="store_true", help="evaluate every test-time condition")
    cnn.add_argument(
        "--calibrate",
        action="store_true",
        help="temperature-scale the track probabilities, fitted on held-out tracks (as for 'experiment')",
    )
    cnn.add_argument("--device", help="auto (default: CUDA when present), cpu or cuda")
    cnn.add_argument(
        "--batch-size",
        type=int,
        help="clips per batch (default: 32 on CPU, the most that fit on CUDA)",
    )
    cnn.add_argument(
        "--return-freed-memory",
        action="store_true",
        help="on the CPU, give freed memory back to the system after each batch: slower, with a lower "
        "peak (by default it is kept for the next batch)",
    )
    cnn.add_argument(
        "--spectrogram-cache-mb",
        type=float,
        metavar="MB",
        help="on the CPU without audio augmentation, keep each clip's log-mel, computed once, for every "
        f"epoch, up to this many MiB (default: {TrainConfig.spectrogram_cache_mb:g}; 0: compute them every "
        "epoch); the result does not depend on it",
    )
    cnn.add_argument(
        "--seed",
        type=int,
        help="seed of the split, initial weights, clip sampling and augmentation (default: 0)",
    )
    cnn.add_argument(
        "--config",
        help="TOML or JSON file of a DeepExperimentConfig (the config.json a run saved, too); flags "
        "override it",
    )
    cnn.add_argument(
        "--workspace",
        default=".sonicprint",
        help="collection database (each file's check, hash and decoder), shared by runs "
        "(default: %(default)s)",
    )
    cnn.add_argument(
        "--out",
        default="runs/cnn",
        help="report folder, with checkpoints and the saved model (default: %(default)s)",
    )
    cnn.add_argument(
        "--resume", action="store_true", help="continue interrupted folds from their checkpoints"
    )
    cnn.add_argument(
        "--overwrite",
        action="store_true",
        help="start afresh in an output folder that holds an earlier run's checkpoints (removing them)",
    )
    cnn.add_argument("--json", help=JSON_HELP)
    cnn.add_argument("--no-maps", action="store_true", help=NO_MAPS_HELP)
    cnn.add_argument("--quiet", action="store_true", help="no progress bars")

    emb = sub.add_parser("embed", help="each file's embedding by a saved model, into an .npz file")
    emb.add_argument("model", type=_model_file, help=MODEL_HELP)
    emb.add_argument("files", nargs="*", help=FILES_HELP)
    emb.add_argument("--files-from", metavar="LIST", help=FILES_FROM_HELP)
    emb.add_argument(
        "--out",
        required=True,
        help="the .npz to write (arrays 'paths' and 'embeddings'); run again to resume after an interruption",
    )
    emb.add_argument("--workers", type=_workers, default=1, help=WORKERS_HELP)
    emb.add_argument("--quiet", action="store_true", help="no progress bar")

    sim = sub.add_parser(
        "similar", help="the files that sound most like a query recording, or a maker, to a saved model"
    )
    sim.add_argument("model", type=_model_file, help=MODEL_HELP)
    sim.add_argument(
        "query", nargs="?", help="the recording to match (with --maker: the first recording to search)"
    )
    sim.add_argument("files", nargs="*", help="the recordings to search: " + FILES_HELP)
    sim.add_argument("--files-from", metavar="LIST", help=FILES_FROM_HELP)
    sim.add_argument(
        "--maker",
        metavar="NAME",
        help="rank by how much each recording sounds like this maker (one the model knows: its training "
        "tracks' direction in the embedding space) instead of like a query recording",
    )
    sim.add_argument(
        "--rank-by",
        choices=["similarity", "probability"],
        default="similarity",
        help="with --maker: cosine similarity to the maker's direction (also finds makers who sound alike), "
        "or the model's probability that the maker made it (finds their own recordings better); "
        "default: %(default)s",
    )
    sim.add_argument(
        "--index",
        metavar="NPZ",
        help="also search the embeddings 'sonicprint embed' wrote with this model, as stored (a catalogue "
        "embedded once serves every query)",
    )
    sim.add_argument("--top", type=_count, default=10, help="how many to list (default: %(default)s)")
    sim.add_argument("--workers", type=_workers, default=1, help=WORKERS_HELP)
    sim.add_argument("--json", action="store_true", help="print JSON instead of a table")

    web = sub.add_parser("serve", help="a local web page that tells who made the recordings dropped on it")
    web.add_argument("model", type=_model_file, help=MODEL_HELP)
    web.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    web.add_argument("--port", type=int, default=8000, help="port (default: %(default)s; 0: any free one)")
    web.add_argument(
        "--max-upload-mb", type=float, default=512.0, help="largest accepted upload (default: %(default)s)"
    )
    web.add_argument(
        "--index",
        metavar="NPZ",
        help="embeddings 'sonicprint embed' wrote with this model: each verdict also lists the recordings "
        "that sound most like the upload, and the page finds those most like a maker",
    )
    web.add_argument("--quiet", action="store_true", help="do not log each request")

    comp = sub.add_parser(
        "compare", help="is one run better than another? paired comparison on the tracks both judged"
    )
    comp.add_argument("run_a", help="an experiment or cnn output folder")
    comp.add_argument("run_b", help="another, on the same collection")
    comp.add_argument("--json", action="store_true", help="print JSON instead of text")
    comp.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default: %(default)s)")

    info = sub.add_parser("info", help="what a saved model knows, how it decides, and how well it did")
    info.add_argument("model", type=_model_file, help=MODEL_HELP)
    info.add_argument("--json", action="store_true", help="print JSON instead of text")

    listing = sub.add_parser(
        "list", help="registered extractors, models, networks, executors, separators, decoders"
    )
    listing.add_argument("-v", "--verbose", action="store_true", help="one line on what each one is")
    return parser


def _feature_spec(base: Any, text: str) -> Any:
    """``NAME`` or ``NAME@SEPARATOR:STEM`` -> ``base`` with that extractor (and stem)."""
    name, _, stem = text.partition("@")
    return replace(base, extractor=name, separate=stem)


def _experiment_config(args: argparse.Namespace) -> Any:
    from .config import ExperimentConfig, ModelConfig, SelectionConfig, load_config_file
    from .features import seed_feature_config

    config = load_config_file(args.config) if args.config else ExperimentConfig()
    collection, features, split, model = config.collection, config.features, config.split, config.model
    if args.seed_method:
        features, model = seed_feature_config(), ModelConfig("knn_pca")
    if args.label:
        collection = replace(collection, label=args.label)
    if args.path_column:
        collection = replace(collection, path_column=args.path_column)
    if args.group_columns is not None:
        collection = replace(collection, group_columns=args.group_columns)
    if args.group and args.group not in collection.group_columns:
        collection = replace(collection, group_columns=(*collection.group_columns, args.group))
    if args.min_tracks is not None:
        collection = replace(collection, min_tracks_per_label=args.min_tracks)
    if args.min_duration is not None:
        collection = replace(collection, min_duration_s=args.min_duration)
    if args.background:
        collection = replace(collection, background=args.background)
    extra = config.extra_features
    if args.features:
        specs = [_feature_spec(features, text) for text in args.features]
        features, extra = specs[0], tuple(specs[1:])
    features, extra = _windowed(features, args), tuple(_windowed(c, args) for c in extra)
    if args.model or args.model_param:
        model = replace(
            model, name=args.model or model.name, params={**dict(model.params), **dict(args.model_param)}
        )
    if args.fusion:
        model = replace(model, fusion=args.fusion)
    if args.calibrate:
        model = replace(model, calibration="temperature")
    if args.augment_copies is not None:
        config = replace(config, augment_copies=args.augment_copies)
    if args.robustness:
        from .deep.transforms import ROBUSTNESS_CONDITIONS

        config = replace(config, robustness=ROBUSTNESS_CONDITIONS)
    if args.group:
        split = replace(split, group=args.group)
    if args.folds is not None:
        split = replace(split, folds=args.folds)
    if args.holdout:
        split = replace(split, method="holdout")
    if args.seed is not None:
        split = replace(split, seed=args.seed)
    if args.repeats is not None:
        split = replace(split, repeats=args.repeats)
    if args.learning_curve is not None:
        config = replace(config, learning_curve=args.learning_curve)
    if args.select_among:
        config = replace(config, selection=load_config_file(args.select_among, SelectionConfig))
    if args.calibrate:  # how the run reports probabilities, whichever model it keeps
        candidates = tuple(replace(c, calibration="temperature") for c in config.selection.candidates)
        config = replace(config, selection=replace(config.selection, candidates=candidates))
    config = replace(
        config, collection=collection, features=features, extra_features=extra, split=split, model=model
    )
    if args.executor:
        config = replace(config, executor=args.executor)
    if args.workers is not None:
        config = replace(config, workers=args.workers)
    if args.no_maps:
        config = replace(config, maps=())
    if args.per_window:
        config = replace(config, per_window=True)
    return config


def _cleaning_config(args: argparse.Namespace) -> Any:
    """The cleaning config: the defaults, or ``--config``, with the flags given applied."""
    from .config import load_config_file

    config = load_config_file(args.config, CleaningConfig) if args.config else CleaningConfig()
    collection = config.collection
    for flag, key in (("label", "label"), ("path_column", "path_column"), ("min_duration", "min_duration_s")):
        if getattr(args, flag) is not None:
            collection = replace(collection, **{key: getattr(args, flag)})
    if args.group_columns is not None:
        collection = replace(collection, group_columns=args.group_columns)
    changes: dict[str, Any] = {"collection": collection}
    if args.keep_instrumental:
        changes["drop_instrumental"] = False
    for flag in ("instrumental_below", "artist_column", "title_column", "executor", "workers"):
        if getattr(args, flag) is not None:
            changes[flag] = getattr(args, flag)
    return replace(config, **changes)


def _cmd_clean(args: argparse.Namespace) -> int:
    from .cleaning import clean_collection, tag_names_of

    config = _cleaning_config(args)
    if config.drop_instrumental:
        tag_names_of(config)  # a missing musicnn or a wrong tagger is reported before any file is read
    columns = (*config.collection.group_columns, *config.credit_columns)
    source = _training_source(args, replace(config.collection, group_columns=tuple(dict.fromkeys(columns))))
    if source is None:
        return 2
    result = clean_collection(
        source, config, workspace=args.workspace, out_dir=args.out, progress=not args.quiet
    )
    reasons = ", ".join(f"{reason} {count}" for reason, count in result.left_out.items()) or "none"
    print(f"kept {result.kept} of {result.total} tracks; left out: {reasons}")
    if result.missing_note:
        print(result.missing_note)
    thin = [f"{label} {kept}/{listed}" for label, (kept, listed) in result.per_label.items() if kept < listed]
    emptied = sum(kept == 0 for kept, _ in result.per_label.values())
    if emptied:
        print(f"{emptied} of {len(result.per_label)} labels have no track left")
    if 0 < len(thin) <= 12:  # more is a table: summary.json has it
        print("kept per label, where some were left out: " + ", ".join(thin))
    print(f"every track and why: {result.screening_path}")
    print(f"counts per label:    {result.out_dir / 'summary.json'}")
    if result.problems:
        print(f"problems ({len(result.problems)}, by file): {result.out_dir / 'problems.txt'}")
    groups = f" --group-columns {','.join(source.group_columns)}" if source.group_columns else ""
    print(
        f"cleaned manifest:    {result.manifest_path} "
        f"(sonicprint experiment {result.manifest_path} --label {source.label}{groups})"
    )
    return 0


def _training_source(args: argparse.Namespace, collection: CollectionConfig) -> Any:
    """The labelled collection a training command reads, or None (said on stderr) when a manifest comes
    without the column to predict."""
    from .collection import open_source

    if collection.label == "label" and not (args.label or args.from_tags or Path(args.source).is_dir()):
        print("sonicprint: --label is required with a manifest (the column to predict)", file=sys.stderr)
        return None
    return open_source(
        args.source,
        label=collection.label,
        audio_root=args.audio_root,
        group_columns=collection.group_columns,
        path_column=collection.path_column,
        from_tags=args.from_tags,
    )


def _write_metrics_json(path: str | None, metrics: dict[str, Any]) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")


def _cmd_experiment(args: argparse.Namespace) -> int:
    from .experiment import FINISHED_PARTS, run_experiment, validate_config
    from .selection import selection_summary

    config = _experiment_config(args)
    validate_config(config)  # an unknown name is reported before any file is read
    source = _training_source(args, config.collection)
    if source is None:
        return 2
    result = run_experiment(
        source, config, workspace=args.workspace, out_dir=args.out, progress=not args.quiet
    )
    m = result.metrics
    _write_metrics_json(args.json, m)
    windows = f" (each window alone {m['window']['accuracy']:.3f})" if "window" in m else ""
    if "repeats" in m:
        r = m["repeats"]
        print(
            f"over {len(r['seeds'])} split seeds: accuracy {r['accuracy_mean']:.3f} ± "
            f"{r['accuracy_std']:.3f}, macro F1 {r['macro_f1_mean']:.3f} ± {r['macro_f1_std']:.3f}; "
            f"seed {r['seeds'][0]} below"
        )
    if "learning_curve" in m:
        c = m["learning_curve"]
        points = zip(c["shares"], c["median_training_tracks_per_label"], c["accuracy_mean"])
        print(
            "learning curve (share of training tracks, median per maker: accuracy): "
            + ", ".join(f"{share:.0%} ({tracks:.0f}): {acc:.3f}" for share, tracks, acc in points)
        )
    if "selection" in m:
        print(selection_summary(m["selection"]))
    if "robustness" in m:
        repeats = m.get("repeats") or {}
        seeds = f"; mean ± std over {len(repeats['seeds'])} split seeds" if repeats else ""
        print(f"track accuracy with the held-out tracks transformed (seed 0, tracks scored{seeds}):")
        for condition, under in m["robustness"].items():
            accuracy = "–" if under["accuracy"] is None else f"{under['accuracy']:.3f}"
            mean, std = (repeats.get(f"robustness {condition}_{stat}") for stat in ("mean", "std"))
            spread = f"; {mean:.3f} ± {std:.3f}" if mean is not None else ""
            print(f"  {condition:>18}: {accuracy} ({under['n_scored']}{spread})")
    print(
        f"{m['model']} on {m['extractor']}: accuracy {m['accuracy']:.3f}{windows}, "
        f"macro F1 {m['macro']['f1']:.3f} "
        f"(chance {m['chance']['uniform']:.3f}); {_scored_tracks(m)}, {len(m['labels'])} labels, "
        f"{m['evaluation']}; {m['n_skipped']} skipped"
    )
    if result.folds_reused:
        print(
            f"resumed: {result.folds_reused} folds read from {Path(args.out) / FINISHED_PARTS} (trained by "
            f"an earlier run of the same config on the same features), {result.folds_trained} trained now"
        )
    print(f"report: {result.report_path}\nmodel:  {result.model_path}")
    return 0


def _scored_tracks(metrics: dict[str, Any]) -> str:
    n, scored = metrics["n_tracks"], metrics.get("n_scored", metrics["n_tracks"])
    return f"{n} tracks" if scored == n else f"{scored} of {n} tracks scored"


def _cmd_predict(args: argparse.Namespace) -> int:
    from .predict import iter_predictions, predict_files, predict_to_csv

    files = _files(args)
    if args.out:
        done = predict_to_csv(
            args.model,
            files,
            args.out,
            top_k=args.top_k,
            unknown_below=args.unknown_below,
            workers=args.workers,
            progress=not args.quiet,
        )
        print(
            f"{done.predicted} files predicted ({done.unknown} unknown, {done.errors} errors), "
            f"{done.skipped} already there: {done.out}"
        )
        return 1 if done.errors else 0
    options = {"top_k": args.top_k, "unknown_below": args.unknown_below, "workers": args.workers}
    if args.json:
        results = predict_files(args.model, files, **options)
        print(json.dumps([r.as_dict() for r in results], indent=2))
        return 1 if any(r.error for r in results) else 0
    failed = False
    for r in iter_predictions(args.model, files, **options):  # each line as soon as it is known
        failed |= r.error is not None
        if r.error:
            print(f"{r.path}: ERROR {r.error}", flush=True)
            continue
        tops = ", ".join(f"{lab} {p:.2f}" for lab, p in r.top)
        print(f"{r.path}: {r.verdict}  [{tops}]", flush=True)
    return 1 if failed else 0


def _cmd_embed(args: argparse.Namespace) -> int:

    from .predict import embed_to_npz

    summary = embed_to_npz(args.model, _files(args), args.out, workers=args.workers, progress=not args.quiet)
    for path, problem in summary.errors:
        print(f"{path}: ERROR {problem}", file=sys.stderr)
    kept = f" ({summary.skipped} already there)" if summary.skipped else ""
    print(f"{summary.embedded + summary.skipped} embeddings of {summary.dim} dimensions{kept}: {summary.out}")
    return 1 if summary.errors else 0


def _cmd_similar(args: argparse.Namespace) -> int:
    from .predict import find_like_maker, find_similar

    if args.maker:
        args.files = [args.query, *args.files] if args.query else args.files
        ranked, errors = find_like_maker(
            args.model,
            args.maker,
            _files(args),
            top_n=args.top,
            rank_by=args.rank_by,
            index=args.index,
            workers=args.workers,
        )
    elif args.query:
        ranked, errors = find_similar(
            args.model, args.query, _files(args), top_n=args.top, index=args.index, workers=args.workers
        )
    else:
        raise ConfigError("similar needs a query recording, or --maker NAME")
    for path, problem in errors:
        print(f"{path}: ERROR {problem}", file=sys.stderr)
    score = "probability" if args.maker and args.rank_by == "probability" else "similarity"
    if args.json:
        print(json.dumps([{"path": p, score: round(s, 4)} for p, s in ranked], indent=2))
    else:
        for rank, (path, value) in enumerate(ranked, 1):
            print(
                f"{rank:3d}. {value:+.3f}  {path}"
                if score == "similarity"
                else f"{rank:3d}. {value:.3f}  {path}"
            )
    return 1 if errors else 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from .web import make_server, serve

    server = make_server(
        args.model,
        host=args.host,
        port=args.port,
        max_upload_mb=args.max_upload_mb,
        log=not args.quiet,
        index=args.index,
    )
    serve(server)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    summary = run_demo(args.out, seed=args.seed, progress=not args.quiet, executor=args.executor)
    print(f"Synthetic collection: {summary['data']}")
    for line in summary["problems"]:
        print(f"  skipped: {line}")
    for name, e in summary["experiments"].items():
        print(
            f"{name}: accuracy {e['accuracy']:.3f}, macro F1 {e['macro_f1']:.3f} (chance {e['chance']:.3f}), "
            f"{e['evaluation']}\n  report: {e['report']}"
        )
    c = summary["comparison"]
    print(
        f"{Path(c['run_a']).name} against {Path(c['run_b']).name} on the same {c['n']} tracks: "
        f"{_difference(c)}  (sonicprint compare {c['run_a']} {c['run_b']})"
    )
    print("Held-out tracks:")
    for p in summary["predictions"]:
        top = ", ".join(f"{t['label']} {t['probability']:.2f}" for t in p["top"])
        print(f"  {Path(p['path']).name}: predicted {p['verdict']} (true {p['true_producer']})  [{top}]")
    print(f"Summary: {Path(args.out) / 'summary.json'}")
    print(f"Try the web page with the best model: sonicprint serve {summary['best_model']}")
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from .demo import generate_collection

    made = generate_collection(
        args.out,
        seed=args.seed,
        producers=args.producers,
        artists=args.artists,
        tracks_per_pair=args.tracks_per_pair,
        duration_s=args.duration,
    )
    print(f"manifest: {made.manifest}\naudio:    {made.audio_root / 'audio'}")
    print(f"try:      sonicprint experiment {made.manifest} --label producer --group-columns album,artist")
    return 0


def _deep_config(args: argparse.Namespace) -> Any:
    """The cnn command's DeepExperimentConfig: its ``--config`` file (or the defaults), then each flag."""
    from .config import AugmentConfig, DeepExperimentConfig, SplitConfig, load_config_file
    from .deep.transforms import ROBUSTNESS_CONDITIONS

    if args.config:
        config = load_config_file(args.config, DeepExperimentConfig)
    else:
        config = DeepExperimentConfig(split=SplitConfig(folds=CNN_DEFAULT_FOLDS))
    collection, audio, split, train = config.collection, config.audio, config.split, config.train

    def given(**values: Any) -> dict[str, Any]:
        return {key: value for key, value in values.items() if value is not None}

    group_columns = collection.group_columns if args.group_columns is None else args.group_columns
    if args.group:
        group_columns = tuple(dict.fromkeys((*group_columns, args.group)))
    collection = replace(
        collection,
        group_columns=group_columns,
        **given(
            label=args.label,
            path_column=args.path_column,
            min_tracks_per_label=args.min_tracks,
            min_duration_s=args.min_duration,
            background=args.background,
        ),
    )
    audio = _windowed(audio, args)
    if args.stem is not None:
        audio = replace(audio, separate=args.stem)
    split = replace(split, **given(folds=args.folds, group=args.group, seed=args.seed))
    if args.holdout:
        split = replace(split, method="holdout")
    train = replace(
        train,
        **given(
            network=args.network,
            clip_s=args.clip,
            hop_s=args.hop,
            epochs=args.epochs,
            patience=args.patience,
            lr=args.lr,
            lr_range_steps=args.lr_range_steps,
            optimizer=args.optimizer,
            momentum=args.momentum,
            weight_decay=args.weight_decay,
            seed=args.seed,
            device=args.device,
            batch_size=args.batch_size,
            spectrogram_cache_mb=args.spectrogram_cache_mb,
        ),
    )
    if args.network_param:
        train = replace(train, network_params={**dict(train.network_params), **dict(args.network_param)})
    if args.augment is not None:
        train = replace(train, augment=AugmentConfig.preset(args.augment))
    if args.return_freed_memory:
        train = replace(train, keep_freed_memory=False)
    config = replace(config, collection=collection, audio=audio, split=split, train=train)
    if args.grid_momentum is not None or args.grid_weight_decay is not None:
        config = replace(
            config,
            grid_momentum=args.grid_momentum or (),
            grid_weight_decay=args.grid_weight_decay or (),
        )
    if args.robustness:
        config = replace(config, robustness=ROBUSTNESS_CONDITIONS)
    if args.calibrate:
        config = replace(config, calibration="temperature")
    if args.no_maps:
        config = replace(config, maps=())
    return config


def _cmd_cnn(args: argparse.Namespace) -> int:
    from .deep.experiment import run_deep_experiment, validate_deep_config

    config = _deep_config(args)
    validate_deep_config(config)  # a wrong network or parameter is reported before any file is read
    source = _training_source(args, config.collection)
    if source is None:
        return 2
    m = run_deep_experiment(
        source,
        config,
        workspace=args.workspace,
        out_dir=args.out,
        progress=not args.quiet,
        resume=args.resume,
        overwrite=args.overwrite,
    )
    _write_metrics_json(args.json, m)
    clip = f"clip accuracy {m['clip']['accuracy']:.3f}, " if m["clip"] else ""
    print(
        f"{m['network']}: {clip}track accuracy {m['track']['accuracy']:.3f} ({m['evaluation']}); "
        f"{m['epoch_seconds_mean']:.1f} s per epoch"
    )
    if set(m["robustness"]) - {"clean"}:  # clean alone repeats the track accuracy above
        print("track accuracy with the test tracks transformed:")
        for condition, accuracy in m["robustness"].items():
            print(f"  {condition:>18}: {accuracy:.3f}")
    print(f"report: {Path(args.out) / 'report.html'}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from .predict import describe_model

    d: dict[str, Any] = describe_model(args.model)
    if args.json:
        print(json.dumps(d, indent=2))
        return 0
    trained, evaluated = d["trained"], d["evaluated"]
    lines = [
        f"{d['model']}: {d['kind']} '{d['name']}'",
        f"makers ({len(d['labels'])}): {', '.join(d['labels'])}"
        + (f"; '{d['background']}' means none of them (answered 'unknown')" if d["background"] else ""),
        f"decides from: {d['decides']}",
        "arguments: " + (", ".join(f"{k}={v}" for k, v in d["arguments"].items()) or "its defaults"),
        f"trained: {trained['created'] or 'date not saved'}, data hash {trained['data_hash'] or 'not saved'}",
    ]
    if evaluated:
        f1 = f", macro F1 {evaluated['macro_f1']:.3f}" if evaluated["macro_f1"] is not None else ""
        repeats = evaluated.get("repeats")
        score = f"accuracy {evaluated['accuracy']:.3f}{f1}"
        if repeats:  # the headline is the mean over split seeds; the first seed's figures are its tables'
            seeds = repeats["seeds"]
            score = (
                f"accuracy {repeats['accuracy_mean']:.3f} ± {repeats['accuracy_std']:.3f}, macro F1 "
                f"{repeats['macro_f1_mean']:.3f} ± {repeats['macro_f1_std']:.3f} over {len(seeds)} split "
                f"seeds (seed {seeds[0]}: {score})"
            )
        lines.append(f"evaluated: {score} on {evaluated['n_tracks']} tracks ({evaluated['evaluation']})")
        for network, makers in (evaluated.get("tags") or {}).items():
            lines.append(f"tags each maker's tracks get more than the collection's ({network}):")
            lines += [f"  {maker}: {', '.join(t[0] for t in tags) or '-'}" for maker, tags in makers.items()]
    else:
        lines.append("evaluated: no metrics.json of the same data beside it")
    versions = ", ".join(f"{k} {v}" for k, v in trained["versions"].items())
    lines.append(f"software: {versions or 'not saved'}")
    print("\n".join(lines))
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from .audio import DECODERS
    from .deep.networks import NETWORKS
    from .executors import EXECUTORS
    from .features import EXTRACTORS
    from .models import MODELS
    from .separation import SEPARATORS

    registries: dict[str, Registry[Any]] = {
        "feature extractors": EXTRACTORS,
        "models": MODELS,
        "networks": NETWORKS,
        "executors": EXECUTORS,
        "separators": SEPARATORS,
    }
    decoders = ", ".join(n for n in DECODERS if DECODERS.get(n).available())
    if args.verbose:
        for title, registry in registries.items():
            print(f"{title}:")
            width = max(map(len, registry.names()))
            for name in registry.names():
                print(f"  {name:<{width}}  {registry.describe(name)}")
        print("audio decoders available:", decoders)
        return 0
    for title, registry in registries.items():
        names = registry.names()
        if registry is SEPARATORS:  # each with the stems it gives
            names = [f"{n} ({', '.join(SEPARATORS.get(n).stems)})" for n in names]
        print(f"{title + ':':<19}", ", ".join(names))
    print(f"{'audio decoders:':<19}", decoders)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from .compare import compare_runs

    result = compare_runs(args.run_a, args.run_b, seed=args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    extra = [f"{result[f'only_in_{k}']} only in {k.upper()}" for k in ("a", "b") if result[f"only_in_{k}"]]
    print(
        f"A {result['run_a']}: accuracy {result['accuracy_a']:.1%}\n"
        f"B {result['run_b']}: accuracy {result['accuracy_b']:.1%}\n"
        f"on the {result['n']} tracks both judged{' (' + ', '.join(extra) + ')' if extra else ''}: "
        f"A - B {_difference(result)}; only A right on {result['only_a_right']}, only B on "
        f"{result['only_b_right']}"
    )
    for note in result["notes"]:
        print(f"note: {note}")
    return 0


def _difference(comparison: dict[str, Any]) -> str:
    """A :func:`compare_runs` result's difference, its interval and p-value, in one phrase."""
    low, high = comparison["interval"]
    return (
        f"{100 * comparison['difference']:+.1f} points, 95% bootstrap interval [{100 * low:+.1f}, "
        f"{100 * high:+.1f}], exact McNemar p = {comparison['mcnemar_p']:.2g}"
    )


COMMANDS = {
    "demo": _cmd_demo,
    "generate": _cmd_generate,
    "experiment": _cmd_experiment,
    "clean": _cmd_clean,
    "predict": _cmd_predict,
    "cnn": _cmd_cnn,
    "embed": _cmd_embed,
    "similar": _cmd_similar,
    "serve": _cmd_serve,
    "compare": _cmd_compare,
    "info": _cmd_info,
    "list": _cmd_list,
}


def parse_command_line(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The parsed command line. Options may sit among a command's files (``predict model.pt --top-k 1
    a.flac b.flac``), which argparse alone refuses once a list of files follows another positional."""
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    args, extra = parser.parse_known_args(words)
    if not extra:
        return args
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    rest = words[words.index(args.command) + 1 :]
    return commands[args.command].parse_intermixed_args(rest, argparse.Namespace(command=args.command))


def _print_anything() -> None:
    """A terminal or pipe whose encoding cannot spell a maker's name (an ASCII locale) gets escapes such as
    \\u4e45 instead of a UnicodeEncodeError half-way through a batch."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and not codecs.lookup(stream.encoding).name.startswith("utf"):
            stream.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    _print_anything()
    args = parse_command_line(argv)
    try:
        return COMMANDS[args.command](args)
    except (SonicprintError, UnknownNameError, ValueError) as exc:
        print(f"sonicprint: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # an output or workspace path the system refuses: name it, no traceback
        print(f"sonicprint: error: {os_error_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: no traceback; say what the next run finds
        print(
            f"sonicprint: interrupted; {RESUME_NOTE.get(args.command, 'run the same command again')}",
            file=sys.stderr,
        )
        return 130


#: what a command keeps when interrupted, so the same command goes on from there
RESUME_NOTE = {
    "experiment": "the features and every fold already trained are kept: the same command goes on from them",
    "clean": "the files checked and the tags computed are kept: the same command goes on from them",
    "cnn": "each fold's last checkpoint is kept: the same command with --resume goes on from it",
    "predict": "with --out, the rows written are kept: the same command goes on after them",
    "embed": "the embeddings written are kept: the same command goes on after them",
    "demo": "the features and every fold already trained are kept: the same command goes on from them",
}


def os_error_message(exc: OSError) -> str:
    """``path: problem`` for an error the operating system raised on a path given on the command line."""
    if isinstance(exc, FileExistsError):
        problem = "is a file, and a folder is needed here"
    elif isinstance(exc, NotADirectoryError):
        problem = "part of this path is a file, not a folder"
    elif isinstance(exc, IsADirectoryError):
        problem = "is a folder, and a file is needed here"
    elif isinstance(exc, PermissionError):
        problem = "permission denied"
    else:
        problem = exc.strerror or str(exc)
    return f"{exc.filename}: {problem}" if exc.filename else problem


if __name__ == "__main__":
    sys.exit(main())
