"""Orchestration: from a collection source to a feature table, through the store, cache and executors.

Work is idempotent: tracks already checked and features already cached are not computed again, so a run
that was interrupted (even by ``kill -9``) finishes the rest when started again.
"""

from __future__ import annotations

import contextlib
import importlib
import re
import sys
import zlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .audio import DecodedAudio, conform_audio, probe_audio, read_audio
from .cache import FeatureCache, extractor_key
from .collection import OK, CollectionSource, IngestReport, TrackStore, ingest
from .config import FeatureConfig
from .errors import ConfigError, FileProblem
from .executors import create_executor
from .features import create_extractor
from .features.mix import as_stereo


class Workspace:
    """A directory holding a collection's database (``collection.sqlite``) and feature cache (``cache/``)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.store = TrackStore(self.root / "collection.sqlite")
        self.cache = FeatureCache(self.root / "cache")

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class ExtractJob:
    """Everything a worker needs to compute and cache one track's features."""

    path: str
    content_hash: str
    duration_s: float
    config: FeatureConfig
    cache_root: str
    key: str
    #: module defining the extractor: a fresh worker process imports it, so plug-ins register there too
    extractor_module: str = ""
    per_window: bool = False
    #: 0: the track as it is; k > 0: its k-th degraded copy (see :func:`window_reader`)
    degraded_copy: int = 0
    #: (config, cache key) of other feature sets one decoding serves (:func:`shares_decoding`), computed
    #: from the same decoded (and separated) windows and cached beside the requested features
    siblings: tuple[tuple[FeatureConfig, str], ...] = ()
    #: a test-time condition each window is put through as decoded (:func:`window_reader`); "" for none
    condition: str = ""


#: reads one window of a file, as stored (all channels, the file's rate): ``read(offset_s, length_s)``
WindowReader = Callable[[float, float], DecodedAudio]


def window_reader(
    path: str | Path, *, condition: str = "", degraded_copy: int = 0, content_hash: str = ""
) -> WindowReader:
    """A :data:`WindowReader` of ``path`` that decodes each window once and keeps it, so feature sets at
    different rates or channel counts over the same windows share one decoding (each resampled and
    downmixed from it exactly as a decoding of its own would be).

    ``condition``: each window is put through that test-time condition
    (:data:`sonicprint.deep.transforms.CONDITIONS`); ``degraded_copy`` > 0: through the track's
    degraded copy of that number, one random degradation for the whole track
    (:func:`sonicprint.deep.transforms.random_degradation`). Either is applied as decoded, at the file's
    rate and channel by channel, as a file sped up, filtered or encoded would reach the model, and drawn
    from ``content_hash``, so every feature set sees the same version of the track, and a rerun too."""
    if (condition or degraded_copy) and not content_hash:
        raise ValueError("a condition or degraded copy needs the file's content hash (it seeds them)")
    if condition and degraded_copy:
        raise ValueError("a window is read under a condition or as a degraded copy, not both")
    transform, seed = None, [0]
    if condition or degraded_copy:
        from .deep.transforms import CONDITIONS, apply_per_channel, random_degradation

        version = zlib.crc32(condition.encode()) if condition else degraded_copy
        seed = [int(content_hash[:16], 16), version]
        transform = (
            CONDITIONS.get(condition) if condition else random_degradation(np.random.default_rng(seed))[1]
        )
    kept: dict[tuple[float, float], DecodedAudio] = {}

    def read(offset: float, length: float) -> DecodedAudio:
        if (offset, length) not in kept:
            audio = read_audio(path, offset=offset, duration=length)
            if transform is not None:  # each window its own draws (noise, a room), the same on every read
                rng = np.random.default_rng([*seed, round(offset * 1000)])
                samples = apply_per_channel(transform, audio.samples, sample_rate=audio.sample_rate, rng=rng)
                audio = replace(audio, samples=np.asarray(samples, dtype=np.float32))
            kept[(offset, length)] = audio
        return kept[(offset, length)]

    return read


def decode_stems(
    path: str | Path, config: FeatureConfig, duration_s: float, *, read: WindowReader | None = None
) -> dict[str, list[np.ndarray]]:
    """Decode the windows the configured extractor needs, at its rate, and with ``config.separate`` split
    each into every stem of that separator: ``{stem: windows}`` (``{"": windows}`` without separation).
    Windows are mono ``(n,)``, or ``(2, n)`` for a stereo extractor (a mono file's channel duplicated, a
    multichannel file's first two kept); stems are mono. ``read``: where the windows come from (default: a
    decoding of their own; a shared :func:`window_reader` lets other feature sets reuse it)."""
    read = read or window_reader(path)
    extractor = create_extractor(config)
    separator = None
    if config.separate:
        from .separation import parse_stem

        separator, _ = parse_stem(config.separate)
    stereo = extractor.channels == 2 or (separator is not None and separator.channels == 2)
    windows = [
        conform_audio(read(offset, length), sample_rate=extractor.sample_rate, mono=not stereo).samples
        for offset, length in extractor.windows(duration_s)
    ]
    windows = [as_stereo(w) for w in windows] if stereo else [w[0] for w in windows]
    if separator is None:
        return {"": windows}
    separated = [separator.separate(w, sample_rate=extractor.sample_rate) for w in windows]
    return {stem: [parts[stem] for parts in separated] for stem in separator.stems}


def decode_windows(
    path: str | Path, config: FeatureConfig, duration_s: float, *, read: WindowReader | None = None
) -> list[np.ndarray]:
    """:func:`decode_stems`' windows of the stem ``config.separate`` names (the decoded windows without)."""
    return decode_stems(path, config, duration_s, read=read)[config.separate.partition(":")[2]]


def shares_decoding(config: FeatureConfig, other: FeatureConfig) -> bool:
    """Whether one decoding (and separation) of a file can serve ``other`` as well as ``config``: the same
    windows, rate and channels, and the same separator or none (another stem of it, or another extractor of
    the same audio). Computed together, two stems are separated once, and two layers of one pretrained
    network share one pass (:func:`sonicprint.pretrained.musicnn.embed_audio`)."""
    if config == other:
        return False
    ours, theirs = create_extractor(config), create_extractor(other)
    return (
        shares_windows(config, other)
        and ours.sample_rate == theirs.sample_rate
        and ours.channels == theirs.channels
        and config.separate.partition(":")[0] == other.separate.partition(":")[0]
    )


def shares_windows(config: FeatureConfig, other: FeatureConfig) -> bool:
    """Whether ``other`` reads the same windows of a file as ``config`` (at any rate or channel count), so
    one :func:`window_reader` serves both."""
    if config == other:
        return False
    return (config.n_windows, config.window_s) == (other.n_windows, other.window_s) and type(
        create_extractor(config)
    ).windows is type(create_extractor(other)).windows  # a plug-in may place its windows its own way


def compute_file_features(
    path: str | Path,
    config: FeatureConfig,
    *,
    duration_s: float | None = None,
    per_window: bool = False,
    degraded_copy: int = 0,
    content_hash: str = "",
    condition: str = "",
) -> np.ndarray:
    """Features of one file, without a workspace (used by ``predict``).

    ``per_window``: the extractor summarises each window on its own and the result stacks them,
    ``(config.n_windows, ...)``; a track no longer than one window repeats it, so every track has the same
    number of rows (and weighs the same in training). ``degraded_copy`` > 0: the features of that degraded
    copy of the file; ``condition``: of the file under that test-time condition (both
    :func:`window_reader`, seeded by ``content_hash``).
    """
    if duration_s is None:
        duration_s = probe_audio(path).duration_s
    read = window_reader(path, condition=condition, degraded_copy=degraded_copy, content_hash=content_hash)
    windows = decode_windows(path, config, duration_s, read=read)
    return features_from_windows(path, windows, config, per_window=per_window)


def features_from_windows(
    path: str | Path,
    windows: Sequence[np.ndarray],
    config: FeatureConfig,
    *,
    per_window: bool = False,
) -> np.ndarray:
    """The features :func:`compute_file_features` gives, from the file's decoded windows (``path`` names
    the file in errors)."""
    extractor = create_extractor(config)
    if per_window:
        summaries = [extractor.compute([w]) for w in windows]
        array = np.stack([summaries[i % len(summaries)] for i in range(config.n_windows)])
    else:
        array = extractor.compute(windows)
    if not np.all(np.isfinite(array)):
        raise FileProblem(path, "features are not finite (damaged audio?)")
    return array


def _check_same_windows(configs: Sequence[FeatureConfig]) -> int:
    counts = {c.n_windows for c in configs}
    if len(counts) != 1:
        raise ConfigError(
            "per-window feature sets must use the same number of windows; got "
            + ", ".join(f"{c.extractor}: {c.n_windows}" for c in configs)
        )
    return counts.pop()


#: how a silent file's problem begins (``sonicprint clean`` gives it as the reason the file is left out)
SILENT = "silent"
#: the peak below which decoded audio counts as silence (-100 dBFS: digital silence or a dither floor)
SILENCE_PEAK = 1e-5
#: samples at each end of a window that the silence test passes over: resampling a constant level rings
#: there (soxr HQ: up to about 320 samples between 8 and 192 kHz), which is the resampler, not the file
RESAMPLER_EDGE = 512


def require_sound(path: str | Path, windows: Sequence[np.ndarray]) -> None:
    """Raise a FileProblem naming ``path`` when every one of its decoded ``windows`` is silent: no sample
    strays more than :data:`SILENCE_PEAK` (or 1e-5 of a level above 1: float rounding) from the window's
    mean. A constant level is no sound either (a DC offset, or NaNs that a writer turned into
    full-scale PCM), also once resampled: the first and last :data:`RESAMPLER_EDGE` samples of a window
    (at most a quarter of it each) are not looked at."""
    if all(w.size == 0 or _is_constant(w) for w in windows):
        raise FileProblem(
            path,
            f"{SILENT}: no sound above -100 dBFS in the analysed audio (a constant level is no sound), "
            "nothing to attribute",
        )


def _is_constant(window: np.ndarray) -> bool:
    edge = min(RESAMPLER_EDGE, window.shape[-1] // 4)
    inner = window[..., edge : window.shape[-1] - edge]
    level = np.mean(inner, axis=-1, keepdims=True)
    tolerance = np.maximum(SILENCE_PEAK, 1e-5 * np.abs(level))
    return bool(np.all(np.abs(inner - level) < tolerance))


def compute_feature_sets(
    path: str | Path,
    configs: Sequence[FeatureConfig],
    *,
    per_window: bool = False,
    duration_s: float | None = None,
    reject_silence: bool = False,
) -> np.ndarray:
    """Several feature sets of one file, each flattened, concatenated in order: ``(sum of sizes,)``, or
    with ``per_window`` ``(n_windows, sum of sizes)``. Each window is decoded once for every set
    (:func:`window_reader`), and one resampling (and separation) serves every set it can
    (:func:`shares_decoding`). ``duration_s``: the file's, when already probed. ``reject_silence``: a
    file whose analysed audio is silent is a FileProblem (:func:`require_sound`) rather than features of
    nothing."""
    if duration_s is None:
        duration_s = probe_audio(path).duration_s
    n = _check_same_windows(configs) if per_window else 1
    stems_for = _stems_of(path, duration_s, reject_silence=reject_silence)

    def features(config: FeatureConfig) -> np.ndarray:
        windows = stems_for(config)[config.separate.partition(":")[2]]
        array = features_from_windows(path, windows, config, per_window=per_window)
        return array.reshape(n, -1) if per_window else array.reshape(-1)

    return np.concatenate([features(c) for c in configs], axis=-1)


def _stems_of(
    path: str | Path, duration_s: float, *, reject_silence: bool = False, read: WindowReader | None = None
) -> Callable[[FeatureConfig], dict[str, list[np.ndarray]]]:
    """``stems_for(config)``: :func:`decode_stems` of ``path`` for each config asked, every window read
    once (``read``, default :func:`window_reader`) and each resampling or separation reused by the configs
    it serves (:func:`shares_decoding`)."""
    read = read or window_reader(path)
    decoded: list[tuple[FeatureConfig, dict[str, list[np.ndarray]]]] = []

    def stems_for(config: FeatureConfig) -> dict[str, list[np.ndarray]]:
        for done, stems in decoded:
            if done == config or shares_decoding(done, config):
                return stems
        stems = decode_stems(path, config, duration_s, read=read)
        if reject_silence:
            require_sound(path, [w for windows in stems.values() for w in windows])
        decoded.append((config, stems))
        return stems

    return stems_for


def extract_track(job: ExtractJob) -> str:
    """Worker: compute one track's features and store them in the cache; returns the content hash."""
    if job.extractor_module:
        importlib.import_module(job.extractor_module)
    # A silent track would teach its label the sound of nothing: reported, never trained or scored on.
    read = window_reader(
        job.path, condition=job.condition, degraded_copy=job.degraded_copy, content_hash=job.content_hash
    )
    stems_for = _stems_of(job.path, job.duration_s, reject_silence=True, read=read)
    stems_for(job.config)  # the requested set's decoding fails the job; a sibling's is retried on its own
    cache = FeatureCache(job.cache_root)

    def compute(config: FeatureConfig) -> np.ndarray:
        return features_from_windows(
            job.path, stems_for(config)[config.separate.partition(":")[2]], config, per_window=job.per_window
        )

    cache.put(job.key, job.content_hash, compute(job.config))
    for config, key in job.siblings:
        with contextlib.suppress(Exception):  # a failing sibling is retried, and reported, in its own pass
            cache.put(key, job.content_hash, compute(config))
    return job.content_hash


@dataclass
class FeatureTable:
    """Features of the usable tracks of a collection, row-aligned with their labels and groups."""

    paths: list[str]
    labels: list[str]
    groups: list[dict[str, str]]
    hashes: list[str]
    features: np.ndarray
    errors: list[tuple[str, str]] = field(default_factory=list)
    computed: int = 0
    #: features are ``(n_tracks, n_windows, dim)``: models train on windows and decide per track
    per_window: bool = False
    #: the flattened width of each feature set, in the order they are concatenated (for late fusion)
    block_sizes: tuple[int, ...] = ()

    def take(self, rows: Sequence[int] | np.ndarray) -> FeatureTable:
        """The table of these rows only (in this order), everything else as it is."""
        rows = [int(i) for i in rows]
        return FeatureTable(
            paths=[self.paths[i] for i in rows],
            labels=[self.labels[i] for i in rows],
            groups=[self.groups[i] for i in rows],
            hashes=[self.hashes[i] for i in rows],
            features=self.features[rows] if rows else self.features[:0],
            errors=self.errors,
            computed=self.computed,
            per_window=self.per_window,
            block_sizes=self.block_sizes,
        )

    def group_values(self, column: str | None) -> list[str]:
        """The value of group ``column`` per track (the track itself when None or empty)."""
        if column is None:
            return list(self.hashes)
        return [g.get(column) or f"track:{h}" for g, h in zip(self.groups, self.hashes)]


def extract_features(
    workspace: Workspace,
    config: FeatureConfig,
    *,
    executor: str = "process",
    workers: int = 0,
    progress: bool = True,
    executor_options: dict[str, object] | None = None,
    per_window: bool = False,
    degraded_copy: int = 0,
    siblings: Sequence[FeatureConfig] = (),
    condition: str = "",
    only: Collection[str] | None = None,
) -> FeatureTable:
    """Compute (or read from the cache) the features of every usable track in the workspace.

    A track whose features fail is reported with its reason and left out; the others go on. With
    ``per_window`` each window is summarised on its own (cached apart from the whole-track features).
    ``degraded_copy`` > 0: the features of each track's degraded copy number ``degraded_copy`` (cached apart).
    ``condition``: the features of each track under that test-time condition (cached apart).
    ``only``: the content hashes of the tracks wanted (None: every usable track).
    ``siblings``: other feature sets to compute alongside where they read the same windows
    (:func:`shares_windows`: each window is then decoded once for all, and separated once for another
    stem of the same separation); their features are cached, so their own pass finds them there.
    """
    key = _cache_key(config, per_window, degraded_copy, condition)
    alongside = [c for c in siblings if shares_windows(config, c)]
    shared = [(c, _cache_key(c, per_window, degraded_copy, condition)) for c in alongside]
    tracks = workspace.store.tracks(status=OK)
    if only is not None:
        tracks = [t for t in tracks if t.content_hash in only]
    todo = [t for t in tracks if t.content_hash and not workspace.cache.has(key, t.content_hash)]
    module = type(create_extractor(config)).__module__
    jobs = [
        ExtractJob(
            t.path,
            t.content_hash or "",
            float(t.duration_s or 0.0),
            config,
            str(workspace.cache.root),
            key,
            module,
            per_window,
            degraded_copy,
            tuple((c, k) for c, k in shared if not workspace.cache.has(k, t.content_hash or "")),
            condition,
        )
        for t in todo
    ]
    if jobs:
        runner = create_executor(executor, workers=workers, **(executor_options or {}))
        bar = _progress(len(jobs), progress_label(config, jobs, degraded_copy, condition), enabled=progress)
        for index, outcome in runner.map_unordered(extract_track, jobs):
            job = jobs[index]
            if isinstance(outcome, BaseException):
                reason = (
                    outcome.problem
                    if isinstance(outcome, FileProblem)
                    else f"{type(outcome).__name__}: {outcome}"
                )
                workspace.store.record_feature_error(job.content_hash, key, reason)
            else:
                workspace.store.clear_feature_error(job.content_hash, key)
            bar.update(1)
        bar.close()
    known_errors = workspace.store.feature_errors(key)
    rows, arrays, errors = [], [], []
    for track in tracks:
        array = workspace.cache.get(key, track.content_hash or "")
        if array is None:
            errors.append((track.path, known_errors.get(track.content_hash or "", "features missing")))
            continue
        rows.append(track)
        arrays.append(array)
    features = np.stack(arrays) if arrays else np.zeros((0,), dtype=np.float32)
    if per_window and arrays:
        features = features.reshape(len(arrays), config.n_windows, -1)
    return FeatureTable(
        paths=[t.path for t in rows],
        labels=[t.label for t in rows],
        groups=[t.groups for t in rows],
        hashes=[t.content_hash or "" for t in rows],
        features=features,
        errors=errors,
        computed=len(jobs),
        per_window=per_window,
    )


def progress_label(
    config: FeatureConfig, jobs: Sequence[ExtractJob], degraded_copy: int = 0, condition: str = ""
) -> str:
    """What a pass computes: its feature set and the sets computed alongside it for any of ``jobs``."""
    alongside = dict.fromkeys(c.spec for job in jobs for c, _ in job.siblings)
    names = ", ".join([config.spec, *(spec for spec in alongside if spec != config.spec)])
    version = f", degraded copy {degraded_copy}" if degraded_copy else f", {condition}" if condition else ""
    return f"features ({names}{version})"


def extract_feature_sets(
    workspace: Workspace,
    configs: Sequence[FeatureConfig],
    *,
    executor: str = "process",
    workers: int = 0,
    progress: bool = True,
    per_window: bool = False,
    degraded_copy: int = 0,
    condition: str = "",
    only: Collection[str] | None = None,
) -> FeatureTable:
    """:func:`extract_features` for each config; a single set is returned as is, several are flattened
    and concatenated per track (per window with ``per_window``; tracks missing from any set are reported
    and left out)."""
    n_windows = _check_same_windows(configs) if per_window else 0
    tables = [
        extract_features(
            workspace,
            c,
            executor=executor,
            workers=workers,
            progress=progress,
            per_window=per_window,
            degraded_copy=degraded_copy,
            condition=condition,
            only=only,
            siblings=configs[i + 1 :],  # later sets over the same windows are computed alongside
        )
        for i, c in enumerate(configs)
    ]
    if len(tables) == 1:
        return replace(tables[0], block_sizes=(_row_width(tables[0]),))
    first = tables[0]
    rows = [{h: i for i, h in enumerate(t.hashes)} for t in tables]
    keep = [i for i, h in enumerate(first.hashes) if all(h in r for r in rows)]
    shape = (len(keep), n_windows, -1) if per_window else (len(keep), -1)
    # no track usable in every set (all missing or broken): an empty table, so the caller's clear error shows
    blocks = (
        [t.features[[r[first.hashes[i]] for i in keep]].reshape(shape) for t, r in zip(tables, rows)]
        if keep
        else []
    )
    errors = list(dict.fromkeys(e for t in tables for e in t.errors))
    return FeatureTable(
        paths=[first.paths[i] for i in keep],
        labels=[first.labels[i] for i in keep],
        groups=[first.groups[i] for i in keep],
        hashes=[first.hashes[i] for i in keep],
        features=np.concatenate(blocks, axis=-1) if keep else np.zeros((0, 0), dtype=np.float32),
        errors=errors,
        computed=sum(t.computed for t in tables),
        per_window=per_window,
        block_sizes=tuple(_row_width(t) for t in tables),
    )


def _cache_key(config: FeatureConfig, per_window: bool, degraded_copy: int, condition: str = "") -> str:
    key = extractor_key(config) + ("-per-window" if per_window else "")
    key += f"-copy{degraded_copy}" if degraded_copy else ""  # degraded as decoded (see window_reader)
    # a condition's name in a folder name: "mp3 64 kbit/s" -> "under-mp3_64_kbit_s"
    return key + (f"-under-{re.sub(r'[^A-Za-z0-9.+-]+', '_', condition)}" if condition else "")


def _row_width(table: FeatureTable) -> int:
    """Values per window (per track without windows) of a table's features, flattened."""
    lead = 2 if table.per_window else 1
    return int(np.prod(table.features.shape[lead:])) if table.features.ndim > lead else 0


def build_collection(
    workspace: Workspace, source: CollectionSource, *, min_duration_s: float, progress: bool = True
) -> IngestReport:
    """Check every file of ``source`` into the workspace; see :func:`sonicprint.collection.ingest`."""
    bar = _progress(len(source.tracks), "checking files", enabled=progress)

    def tick(done: int, total: int) -> None:
        bar.update(1)

    report = ingest(source, workspace.store, min_duration_s=min_duration_s, on_progress=tick)
    bar.close()
    return report


def _progress(total: int, description: str, *, enabled: bool):  # type: ignore[no-untyped-def]
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=description,
        unit="track",
        disable=not enabled,
        file=sys.stderr,
        dynamic_ncols=True,
        leave=False,
    )


def select_labels(
    table: FeatureTable, *, min_tracks: int, labels: Sequence[str] | None = None
) -> FeatureTable:
    """Keep the tracks whose label has at least ``min_tracks`` tracks (and is in ``labels`` if given)."""
    from collections import Counter

    counts = Counter(table.labels)
    keep = [
        i
        for i, lab in enumerate(table.labels)
        if counts[lab] >= min_tracks and (labels is None or lab in labels)
    ]
    return table.take(keep)
