"""Frozen configuration dataclasses, one per stage, and their strict construction from mappings.

Files are read only at the edge (the CLI); everything inside takes these objects. Unknown keys are
rejected so that a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .errors import ConfigError
from .screening import INSTRUMENTAL_BELOW

C = TypeVar("C")


@dataclass(frozen=True)
class FeatureConfig:
    """How features are computed from a track.

    ``extractor`` names an entry of :data:`sonicprint.features.EXTRACTORS`; the rest are its parameters.
    Windows: ``n_windows`` windows of ``window_s`` seconds spread evenly over the track (one centred window
    when ``n_windows`` is 1); tracks shorter than a window are used whole.
    """

    extractor: str = "track_stats"
    sample_rate: int = 22050
    n_windows: int = 6
    window_s: float = 20.0
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int = 128
    n_mfcc: int = 20
    mfcc_frames: int = 1280
    #: ``"separator:stem"`` (e.g. ``"repet_sim:vocals"``): features of that stem of each window, not the
    #: full mix (:mod:`sonicprint.separation`); empty: the full mix
    separate: str = ""

    def __post_init__(self) -> None:
        if self.sample_rate <= 0 or self.n_windows <= 0 or not self.window_s > 0:  # NaN too
            raise ConfigError("sample_rate, n_windows and window_s must be positive")
        if self.hop_length <= 0 or self.n_fft <= 0 or self.hop_length > self.n_fft:
            raise ConfigError("need 0 < hop_length <= n_fft")
        if min(self.n_mels, self.n_mfcc, self.mfcc_frames) <= 0 or self.n_mfcc > self.n_mels:
            raise ConfigError(
                f"need 0 < n_mfcc <= n_mels and mfcc_frames > 0 (the MFCCs come from the mel bands), got "
                f"n_mfcc={self.n_mfcc}, n_mels={self.n_mels}, mfcc_frames={self.mfcc_frames}"
            )
        if self.separate and self.separate.count(":") != 1:
            raise ConfigError(
                f"separate is 'separator:stem' (e.g. 'repet_sim:vocals'), got {self.separate!r}"
            )

    @property
    def spec(self) -> str:
        """How the CLI names this feature set: ``extractor``, or ``extractor@separator:stem``."""
        return f"{self.extractor}@{self.separate}" if self.separate else self.extractor


@dataclass(frozen=True)
class CollectionConfig:
    """How a labelled collection is read and cleaned."""

    label: str = "label"
    path_column: str = "path"
    group_columns: tuple[str, ...] = ()
    min_duration_s: float = 10.0
    min_tracks_per_label: int = 1
    #: a label value meaning "none of the makers" (tracks by others): learnt as one more class, and a
    #: saved model answers "unknown" where it wins; empty: every label is a maker
    background: str = ""

    def __post_init__(self) -> None:
        if not self.label or not self.path_column:
            raise ConfigError("the label and path columns must be named")
        if not self.min_duration_s >= 0:  # also refuses NaN
            raise ConfigError(f"min_duration_s must be 0 or more seconds, got {self.min_duration_s}")
        if self.min_tracks_per_label < 1:
            raise ConfigError(f"min_tracks_per_label must be at least 1, got {self.min_tracks_per_label}")


@dataclass(frozen=True)
class SplitConfig:
    """How tracks are split for evaluation.

    ``method``: ``kfold`` (every track tested once, by a model trained on the other folds) or ``holdout``
    (one train / validation / test split, default 60/20/20). ``group`` is the column that must never
    straddle a split (None: each track is its own group). ``repeats``: how many times the whole evaluation
    runs, with split seeds ``seed``, ``seed + 1``, ...; with few tracks per maker the figure moves with the
    split, and the spread over repeats says by how much.
    """

    method: str = "kfold"
    folds: int = 3
    group: str | None = None
    test_fraction: float = 0.2
    val_fraction: float = 0.2
    seed: int = 0
    repeats: int = 1

    def __post_init__(self) -> None:
        if self.method not in ("kfold", "holdout"):
            raise ConfigError(f"split method must be 'kfold' or 'holdout', got {self.method!r}")
        if self.folds < 2:
            raise ConfigError(f"folds must be at least 2, got {self.folds}")
        if self.repeats < 1:
            raise ConfigError(f"repeats must be at least 1, got {self.repeats}")
        if self.seed < 0:
            raise ConfigError(f"seed must be 0 or more, got {self.seed}")
        if not 0 < self.test_fraction < 1 or not 0 <= self.val_fraction < 1:
            raise ConfigError("test_fraction must be in (0, 1) and val_fraction in [0, 1)")
        if self.test_fraction + self.val_fraction >= 1:
            raise ConfigError("test_fraction + val_fraction must leave room for training")


#: how a model's probabilities can be calibrated (:mod:`sonicprint.models.calibration`)
CALIBRATIONS = ("none", "temperature")


def _check_calibration(calibration: str) -> None:
    if calibration not in CALIBRATIONS:
        raise ConfigError(f"calibration must be one of {', '.join(CALIBRATIONS)}, got {calibration!r}")


@dataclass(frozen=True)
class ModelConfig:
    """Which model to train and its constructor arguments.

    ``fusion`` matters when there are several feature sets: ``"early"`` concatenates them into one model's
    input; ``"late"`` trains one such model per feature set and fuses their probabilities (the
    ``late_fusion`` model), so a large set cannot drown a small one. ``calibration``: ``"none"``, or
    ``"temperature"``: the probabilities are softened (or sharpened) by one temperature fitted on held-out
    predictions (:mod:`sonicprint.models.calibration`), so that they say how often the model is right.
    """

    name: str = "logreg"
    params: Mapping[str, Any] = field(default_factory=dict)
    fusion: str = "early"
    calibration: str = "none"

    def __post_init__(self) -> None:
        if self.fusion not in ("early", "late"):
            raise ConfigError(f"model fusion must be 'early' or 'late', got {self.fusion!r}")
        _check_calibration(self.calibration)


def check_learning_curve_shares(shares: Sequence[float]) -> None:
    """Refuse a learning curve's share outside (0, 1): the whole training side is always measured."""
    outside = [share for share in shares if not 0.0 < share < 1.0]
    if outside:
        raise ConfigError(
            "learning curve shares must lie between 0 and 1 (the whole training side is always measured), "
            f"got {', '.join(f'{share:g}' for share in outside)}"
        )


@dataclass(frozen=True)
class SelectionConfig:
    """Models to choose among by nested cross-validation, and how.

    Picking the best of several models by their cross-validated accuracy, then quoting that accuracy,
    overstates what the pick will do on new tracks: the folds that chose it also scored it. With
    ``candidates``, each part of the split chooses among the experiment's own ``model`` and these by an
    ``inner_folds``-fold cross-validation of its training tracks alone (grouped like the outer split), and
    the pick's verdicts on the part's held-out tracks are scored: the accuracy of the choosing. Each
    candidate is a whole model config, its calibration included (the command line's ``--calibrate`` sets
    it on every one).
    """

    candidates: tuple[ModelConfig, ...] = ()
    inner_folds: int = 3

    def __post_init__(self) -> None:
        if self.inner_folds < 2:
            raise ConfigError(f"inner_folds must be at least 2, got {self.inner_folds}")


@dataclass(frozen=True)
class ExperimentConfig:
    """A whole cross-validated experiment.

    ``per_window``: the model learns from each window of a track (its features summarised window by
    window) and decides per track by the mean log-probability of the track's windows; the split is still
    by track (or ``split.group``), so no track has windows on both sides. ``augment_copies``: degraded
    copies of each training track join its training side only (robustness to tempo, pitch, filters, codecs).
    """

    collection: CollectionConfig = field(default_factory=CollectionConfig)
    features: FeatureConfig = field(default_factory=FeatureConfig)
    #: more feature sets, concatenated after ``features`` track by track (e.g. musicnn + statistics)
    extra_features: tuple[FeatureConfig, ...] = ()
    split: SplitConfig = field(default_factory=SplitConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    executor: str = "process"
    workers: int = 0
    maps: tuple[str, ...] = ("tsne", "umap")
    per_window: bool = False
    #: each training track also enters training as this many randomly degraded copies (tempo, pitch,
    #: filters, noise, room, MP3); evaluated tracks are always scored as they are
    augment_copies: int = 0
    #: shares of each part's training tracks (per label) to train on again, for a learning curve: does
    #: accuracy still climb with more tracks per maker? Empty: no curve
    learning_curve: tuple[float, ...] = ()
    #: other models to choose among by nested cross-validation, the run's own model first
    selection: SelectionConfig = field(default_factory=SelectionConfig)
    #: test-time conditions (``sonicprint.deep.transforms.CONDITIONS``: tempo, pitch, filters, MP3, noise,
    #: room) each part's held-out tracks are also scored under, by the model that scored them as they are
    robustness: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.augment_copies < 0:
            raise ConfigError(f"augment_copies must be 0 or more, got {self.augment_copies}")
        check_learning_curve_shares(self.learning_curve)
        if self.workers < 0:
            raise ConfigError(f"workers must be 0 (one per core) or more, got {self.workers}")

    @property
    def feature_sets(self) -> tuple[FeatureConfig, ...]:
        return (self.features, *self.extra_features)


def _cleaning_collection() -> CollectionConfig:
    return CollectionConfig(min_duration_s=30.0)


def _tagger_windows() -> FeatureConfig:
    return FeatureConfig(extractor="musicnn_mtt_tags", n_windows=3, window_s=20.0)


@dataclass(frozen=True)
class CleaningConfig:
    """How a labelled collection is cleaned before any experiment, as the second study did: tracks
    shorter than ``collection.min_duration_s`` (default 30 s), instrumentals and tracks credited to
    several performers are left out (:mod:`sonicprint.screening`).

    ``drop_instrumental``: a track whose vocal score (a pretrained tagger's voice tags against its no-voice
    tags, over ``tagger``'s windows) is below ``instrumental_below`` is left out. ``artist_column`` and
    ``title_column``: manifest columns of performer credits and titles read for "feat." and the like
    (empty: not read; the artist column may be the label itself).
    """

    collection: CollectionConfig = field(default_factory=_cleaning_collection)
    drop_instrumental: bool = True
    instrumental_below: float = INSTRUMENTAL_BELOW
    tagger: FeatureConfig = field(default_factory=_tagger_windows)
    artist_column: str = ""
    title_column: str = ""
    executor: str = "process"
    workers: int = 0

    def __post_init__(self) -> None:
        if not math.isfinite(self.instrumental_below):
            raise ConfigError(f"instrumental_below must be a finite number, got {self.instrumental_below}")
        if self.workers < 0:
            raise ConfigError(f"workers must be 0 (one per core) or more, got {self.workers}")

    @property
    def credit_columns(self) -> tuple[str, ...]:
        """The manifest columns read besides the label and groups: the artist and title columns."""
        extra = (self.artist_column, self.title_column)
        return tuple(c for c in dict.fromkeys(extra) if c and c != self.collection.label)


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a table, got {type(value).__name__}")
        return from_dict(tp, value, where=where)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        non_none = [a for a in args if a is not type(None)]
        return _convert(non_none[0], value, where)
    if origin is tuple:
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        item_type = typing.get_args(tp)[0]
        return tuple(_convert(item_type, v, f"{where}[{i}]") for i, v in enumerate(value))
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (int, float, str, bool):
        if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
            raise ConfigError(f"{where}: expected {tp.__name__}, got {value!r}")
        return value
    if origin in (Mapping, dict):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a table, got {value!r}")
        return dict(value)
    return value


def from_dict(cls: type[C], data: Mapping[str, Any], *, where: str = "config") -> C:
    """Build the frozen dataclass ``cls`` from ``data``, rejecting unknown keys and wrong types."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(names))}"
        )
    kwargs = {key: _convert(hints[key], value, f"{where}.{key}") for key, value in data.items()}
    return cls(**kwargs)


def to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config), default=_json_default))


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, (tuple, set)):
        return list(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def config_changes(
    before: Mapping[str, Any], after: Mapping[str, Any], *, ignore: Sequence[str] = ()
) -> list[str]:
    """``"key: old -> new"`` for each dotted key whose value differs between two config dicts (as
    :func:`to_dict` gives them), keys in ``ignore`` (dotted too) left out."""

    def flat(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in data.items():
            if isinstance(value, Mapping) and value:
                out.update(flat(value, f"{prefix}{key}."))
            else:
                out[f"{prefix}{key}"] = value
        return out

    old, new = flat(before), flat(after)
    missing = object()
    return [
        f"{key}: {json.dumps(old.get(key, None))} -> {json.dumps(new.get(key, None))}"
        for key in sorted(set(old) | set(new))
        if key not in ignore and old.get(key, missing) != new.get(key, missing)
    ]


def config_hash(config: Any, *, omit_if_empty: Sequence[str] = ()) -> str:
    """A short stable hash of a config, for cache keys and reports. Fields named in ``omit_if_empty`` are
    left out while empty, so adding such a field keeps the hashes made before it existed."""
    data = to_dict(config)
    for name in omit_if_empty:
        if not data.get(name):
            data.pop(name, None)
    text = json.dumps(data, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_config_file(path: str | Path, cls: type[C] = ExperimentConfig) -> C:  # type: ignore[assignment]
    """Read a TOML or JSON config file into ``cls``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from exc
    try:
        if path.suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            data = json.loads(text)
    except Exception as exc:
        raise ConfigError(f"{path}: not valid {path.suffix.lstrip('.') or 'JSON'}: {exc}") from exc
    try:
        return from_dict(cls, data)
    except ConfigError as exc:  # a wrong key, type or value: say which file holds it
        raise ConfigError(f"{path}: {exc}") from exc


def save_config(config: Any, path: str | Path) -> None:
    """Write the resolved config beside an output, so the result can be reproduced."""
    Path(path).write_text(json.dumps(to_dict(config), indent=2, sort_keys=True) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class AugmentConfig:
    """Training-time augmentation, each switch off by default; driven by the trainer's seeded rng.

    Audio: random pitch shift up to ``pitch_semitones``, tempo change up to ``tempo_change`` (0.1: x0.9 to
    x1.1), gain up to ``gain_db``, and with their probabilities a random low- or high-pass filter, noise
    (15-40 dB SNR), room reverb and an MP3 round trip (48-96 kbit/s). Spectrogram: SpecAugment time and
    frequency masks, and mixup with Beta(``mixup_alpha``, ``mixup_alpha``).
    """

    pitch_semitones: float = 0.0
    tempo_change: float = 0.0
    gain_db: float = 0.0
    filter_prob: float = 0.0
    noise_prob: float = 0.0
    reverb_prob: float = 0.0
    codec_prob: float = 0.0
    time_masks: int = 0
    time_mask_frames: int = 20
    freq_masks: int = 0
    freq_mask_bands: int = 12
    mixup_alpha: float = 0.0
    #: pitch shifts by resampling (varispeed: tempo follows pitch), ~100x cheaper than a phase vocoder
    varispeed_pitch: bool = False

    def __post_init__(self) -> None:
        probabilities = {
            "filter_prob": self.filter_prob,
            "noise_prob": self.noise_prob,
            "reverb_prob": self.reverb_prob,
            "codec_prob": self.codec_prob,
        }
        for name, value in probabilities.items():
            if not 0 <= value <= 1:
                raise ConfigError(f"{name} must be a probability in [0, 1], got {value}")
        amounts = {
            "pitch_semitones": self.pitch_semitones,
            "gain_db": self.gain_db,
            "mixup_alpha": self.mixup_alpha,
            "time_masks": self.time_masks,
            "time_mask_frames": self.time_mask_frames,
            "freq_masks": self.freq_masks,
            "freq_mask_bands": self.freq_mask_bands,
        }
        _require_not_negative(amounts)
        if not 0 <= self.tempo_change < 1:
            raise ConfigError(f"tempo_change must be in [0, 1) (0.1: x0.9 to x1.1), got {self.tempo_change}")

    @classmethod
    def robust(cls) -> AugmentConfig:
        """Every augmentation on, at moderate strength (the setting that targets the robustness table)."""
        return cls(
            pitch_semitones=2.0,
            tempo_change=0.1,
            gain_db=6.0,
            filter_prob=0.3,
            noise_prob=0.3,
            reverb_prob=0.3,
            codec_prob=0.2,
            time_masks=2,
            freq_masks=2,
            mixup_alpha=0.2,
        )

    @classmethod
    def preset(cls, name: str) -> AugmentConfig:
        """``none`` (no augmentation), ``fast`` or ``robust``."""
        presets: dict[str, Callable[[], AugmentConfig]] = {
            "none": cls,
            "fast": cls.fast,
            "robust": cls.robust,
        }
        if name not in presets:
            raise ConfigError(f"unknown augmentation preset {name!r}; known: {', '.join(presets)}")
        return presets[name]()

    @classmethod
    def fast(cls) -> AugmentConfig:
        """:meth:`robust` at a cost a CPU can train with: varispeed pitch, no phase-vocoder tempo change,
        fewer MP3 round trips."""
        return cls(
            pitch_semitones=2.0,
            varispeed_pitch=True,
            gain_db=6.0,
            filter_prob=0.3,
            noise_prob=0.3,
            reverb_prob=0.3,
            codec_prob=0.1,
            time_masks=2,
            freq_masks=2,
            mixup_alpha=0.2,
        )


@dataclass(frozen=True)
class TrainConfig:
    """Training a spectrogram network on clips.

    ``lr`` None runs an LR range test of ``lr_range_steps`` batches and takes its suggestion.
    ``optimizer``: ``sgd`` (momentum, weight decay) or ``adamw``. ``batch_size`` 0 picks the largest that
    fits (GPU) or 32 (CPU). Early stopping on validation track accuracy with ``patience`` epochs.
    ``augment_threads`` augment a batch's clips in parallel (0: one per CPU core); the result does not
    depend on it. ``keep_freed_memory``: training on the CPU keeps freed memory for reuse instead of
    returning it to the system (glibc only; see :mod:`sonicprint.deep.memory`): faster, and the process
    holds its peak memory until it ends. ``spectrogram_cache_mb``: training on the CPU without audio
    augmentation computes each clip's log-mel once and keeps it, up to this many MiB for the training clips
    and then the validation clips (0: every epoch computes them again); the result does not depend on it.
    """

    network: str = "resnet"
    network_params: Mapping[str, Any] = field(default_factory=dict)
    clip_s: float = 10.0
    hop_s: float = 5.0
    n_mels: int = 128
    optimizer: str = "sgd"
    lr: float | None = None
    lr_range_steps: int = 60
    momentum: float = 0.9
    weight_decay: float = 1e-4
    batch_size: int = 0
    epochs: int = 30
    patience: int = 6
    clips_per_epoch: int = 0
    seed: int = 0
    device: str = "auto"
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    augment_threads: int = 0
    keep_freed_memory: bool = True
    spectrogram_cache_mb: float = 2048.0

    def __post_init__(self) -> None:
        if self.optimizer not in ("sgd", "adamw"):
            raise ConfigError(f"optimizer must be 'sgd' or 'adamw', got {self.optimizer!r}")
        if not (self.clip_s > 0 and self.hop_s > 0 and self.epochs > 0 and self.n_mels > 0):  # NaN too
            raise ConfigError("clip_s, hop_s, epochs and n_mels must be positive")
        if self.lr is not None and not self.lr > 0:
            raise ConfigError(f"lr must be positive (or None: from an LR range test), got {self.lr}")
        if self.lr_range_steps < 2:
            raise ConfigError(f"lr_range_steps must be at least 2 (batches), got {self.lr_range_steps}")
        _check_momentum_and_decay([self.momentum], [self.weight_decay])
        counts = {
            "batch_size": self.batch_size,
            "patience": self.patience,
            "clips_per_epoch": self.clips_per_epoch,
            "seed": self.seed,
            "augment_threads": self.augment_threads,
            "spectrogram_cache_mb": self.spectrogram_cache_mb,
        }
        _require_not_negative(counts)
        if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", self.device):
            raise ConfigError(f"device must be auto, cpu, cuda or cuda:N, got {self.device!r}")


def _check_momentum_and_decay(momenta: Sequence[float], weight_decays: Sequence[float]) -> None:
    for momentum in momenta:
        if not 0 <= momentum < 1:
            raise ConfigError(f"momentum must be in [0, 1), got {momentum}")
    for decay in weight_decays:
        _require_not_negative({"weight decay": decay})


def _require_not_negative(values: Mapping[str, float]) -> None:
    """A ConfigError naming the first of ``values`` (name: value) below 0 or NaN."""
    for name, value in values.items():
        if not value >= 0:
            raise ConfigError(f"{name} must be 0 or more, got {value}")


@dataclass(frozen=True)
class DeepExperimentConfig:
    """A cross-validated experiment with a spectrogram network on clips, decided per track.

    Each track is read in ``audio.n_windows`` windows of ``audio.window_s`` seconds at
    ``audio.sample_rate``; inside each fold the training tracks are split again (``val_fraction``, grouped
    like the folds) for early stopping. With ``split.method`` ``holdout`` one network trains on the
    training part, stops early on the validation part and is scored on the test part (``split``'s
    fractions). ``robustness`` names the test-time conditions to evaluate.
    """

    collection: CollectionConfig = field(default_factory=CollectionConfig)
    audio: FeatureConfig = field(default_factory=lambda: FeatureConfig(extractor="logmel"))
    split: SplitConfig = field(default_factory=SplitConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    val_fraction: float = 0.2
    robustness: tuple[str, ...] = ("clean",)
    maps: tuple[str, ...] = ("tsne",)
    #: train a final network on all tracks (with an inner validation split) and save it as model.pt
    final_model: bool = True
    #: momentum x weight-decay grid searched on the first fold's validation split (both empty: no search;
    #: one empty: the ``train`` value alone)
    grid_momentum: tuple[float, ...] = ()
    grid_weight_decay: tuple[float, ...] = ()
    grid_epochs: int = 5
    #: ``"temperature"``: track probabilities temperature-scaled as :class:`ModelConfig` ``calibration``
    calibration: str = "none"

    def __post_init__(self) -> None:
        _check_calibration(self.calibration)
        if not 0 < self.val_fraction < 1:
            raise ConfigError(f"val_fraction must be in (0, 1), got {self.val_fraction}")
        if self.grid_epochs < 1:
            raise ConfigError(f"grid_epochs must be at least 1, got {self.grid_epochs}")
        if self.audio.extractor != "logmel":
            raise ConfigError(
                f"audio.extractor is {self.audio.extractor!r}, but a network reads its audio as 'logmel' "
                "does (mono windows at audio.sample_rate) and computes its own log-mel; leave it 'logmel'"
            )
        if self.train.clip_s > self.audio.window_s:
            raise ConfigError(
                f"train.clip_s ({self.train.clip_s:g} s) is longer than the windows read from each track "
                f"(audio.window_s {self.audio.window_s:g} s): every clip would be padded with silence; "
                "cut shorter clips or read longer windows"
            )
        _check_momentum_and_decay(self.grid_momentum, self.grid_weight_decay)
        if self.split.repeats != 1:
            raise ConfigError(
                f"split.repeats is {self.split.repeats}, but a network experiment runs its folds once; "
                "run it again with another --seed to see how the figure moves with the split"
            )
