"""The built-in default data and the end-to-end demo.

:func:`generate_collection` writes a seeded synthetic collection (producers x artists, mixed formats and
rates, plus one damaged file and one duplicate to show how problems are reported). :func:`run_demo` runs
collection -> features -> train -> evaluate -> predict on it and leaves the reports.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .collection import read_manifest
from .compare import compare_runs
from .config import CollectionConfig, ExperimentConfig, FeatureConfig, ModelConfig, SplitConfig
from .errors import ConfigError
from .experiment import run_experiment
from .features import seed_feature_config
from .predict import predict_files
from .synth import make_artists, make_producers, render_track


@dataclass(frozen=True)
class GeneratedCollection:
    manifest: Path
    #: the folder the manifest's relative paths are under: the manifest's own (the audio is in ``audio/``)
    audio_root: Path
    queries: list[tuple[Path, str, str]]  # held-out files: (path, producer, artist)


def _write(path: Path, stereo: np.ndarray, sample_rate: int, fmt: str) -> None:
    import soundfile as sf

    from .audio import resample

    if sample_rate != 22050:
        stereo = resample(stereo, orig_rate=22050, target_rate=sample_rate)
    data = stereo.T
    if fmt == "mp3":
        sf.write(path, data, sample_rate, format="MP3")
    elif fmt == "wav":
        sf.write(path, data, sample_rate, subtype="PCM_16")
    else:
        sf.write(path, data, sample_rate, format="FLAC", subtype="PCM_16")


def generate_collection(
    out_dir: str | Path,
    *,
    seed: int = 0,
    producers: int = 5,
    artists: int = 3,
    tracks_per_pair: int = 4,
    duration_s: float = 20.0,
    queries: int = 4,
    with_problems: bool = True,
) -> GeneratedCollection:
    """Write a synthetic labelled collection under ``out_dir/audio`` and its ``manifest.csv`` (columns path,
    producer, artist, album; paths relative to the manifest's folder, so it needs no ``--audio-root``).

    Formats (FLAC, WAV, MP3) and rates (22.05, 44.1, 48 kHz) are drawn independently of the labels,
    so no format can stand in for a producer. A collection generated before in ``out_dir`` is replaced;
    any other ``audio`` folder there is left alone.

    Raises
    ------
    ConfigError
        When a count is below 1 (``queries`` below 0) or ``duration_s`` is under a second, or when
        ``out_dir`` holds an ``audio`` folder this function did not write.
    """
    counts = {"producers": producers, "artists": artists, "tracks_per_pair": tracks_per_pair}
    for name, count in counts.items():
        if count < 1:
            raise ConfigError(f"{name} must be at least 1, got {count}")
    if queries < 0:
        raise ConfigError(f"queries must be 0 or more, got {queries}")
    if not duration_s >= 1.0:
        raise ConfigError(f"duration_s must be at least 1 second, got {duration_s}")
    out = Path(out_dir)
    audio = out / "audio"
    if audio.exists():
        if not _generated_here(out):
            raise ConfigError(
                f"{audio} exists and was not written by 'sonicprint generate'; choose a new or empty folder"
            )
        shutil.rmtree(audio)
    audio.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    producer_styles = make_producers(rng, producers)
    artist_styles = make_artists(rng, artists)
    rows: list[dict[str, str]] = []
    # no Ogg: libsndfile gives every Ogg stream a random serial number, so the bytes (and content hashes,
    # which decide the folds) would differ from run to run
    formats = [("flac", 44100), ("flac", 22050), ("wav", 48000), ("mp3", 44100)]
    for p in producer_styles:
        for a in artist_styles:
            for k in range(tracks_per_pair):
                track_rng = np.random.default_rng([seed, len(rows)])
                stereo = render_track(p, a, rng=track_rng, duration_s=duration_s)
                fmt, rate = formats[int(track_rng.integers(len(formats)))]
                album = f"{a.name} - {p.name} sessions {1 + k % 2}"
                rel = Path(p.name.replace(" ", "_")) / f"{a.name.replace(' ', '_')}_{k + 1:02d}.{fmt}"
                (audio / rel).parent.mkdir(parents=True, exist_ok=True)
                _write(audio / rel, stereo, rate, fmt)
                # relative to the manifest's folder, so the manifest works as it is, wherever ``out`` lies
                rows.append(
                    {"path": f"audio/{rel.as_posix()}", "producer": p.name, "artist": a.name, "album": album}
                )
    if with_problems:
        damaged = audio / "damaged.flac"
        damaged.write_bytes(
            b"fLaC" + bytes(np.random.default_rng(seed).integers(0, 256, 2000, dtype=np.uint8))
        )
        rows.append(
            {
                "path": "audio/damaged.flac",
                "producer": producer_styles[0].name,
                "artist": artist_styles[0].name,
                "album": "damaged",
            }
        )
        first = rows[0]
        copy = Path(first["path"]).with_name("copy_of_" + Path(first["path"]).name)
        shutil.copyfile(out / first["path"], out / copy)
        rows.append({**first, "path": copy.as_posix()})
    manifest = out / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(GENERATED_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    query_dir = out / "queries"
    query_dir.mkdir(exist_ok=True)
    query_list = []
    for q in range(queries):
        qrng = np.random.default_rng([seed, 10_000 + q])
        p = producer_styles[q % len(producer_styles)]
        a = artist_styles[int(qrng.integers(len(artist_styles)))]
        path = query_dir / f"query_{q + 1}.flac"
        _write(path, render_track(p, a, rng=qrng, duration_s=duration_s), 44100, "flac")
        query_list.append((path, p.name, a.name))
    return GeneratedCollection(manifest, out, query_list)


#: the header of every manifest :func:`generate_collection` writes
GENERATED_COLUMNS = ("path", "producer", "artist", "album")


def _generated_here(out: Path) -> bool:
    """Whether ``out`` holds a collection :func:`generate_collection` wrote (its manifest beside the audio),
    so replacing its ``audio`` folder destroys nothing else."""
    try:
        with (out / "manifest.csv").open(newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError):
        return False
    return tuple(header) == GENERATED_COLUMNS


def demo_configs(*, executor: str = "process", workers: int = 0) -> dict[str, ExperimentConfig]:
    """The demo's experiments: the first study's method, the stronger classical model, and that model
    fused with the mix fingerprint (whose report adds each producer's mix profile)."""
    collection = CollectionConfig(label="producer", group_columns=("artist", "album"), min_duration_s=10.0)
    split = SplitConfig(folds=3, seed=0)
    seed = ExperimentConfig(
        collection=collection,
        features=seed_feature_config(window_s=15.0),
        split=split,
        model=ModelConfig("knn_pca"),
        executor=executor,
        workers=workers,
    )
    strong = replace(seed, features=FeatureConfig(n_windows=3, window_s=6.0), model=ModelConfig("lda"))
    # the producer's mix (width, loudness, dynamics) next to the timbre: one LDA each, fused
    fingerprint = replace(
        strong,
        extra_features=(replace(strong.features, extractor="mix_stats"),),
        model=ModelConfig("lda", fusion="late"),
    )
    return {"seed_knn_pca": seed, "track_stats_lda": strong, "timbre_and_mix_lda": fingerprint}


def run_demo(
    out_dir: str | Path = "sonicprint-demo",
    *,
    seed: int = 0,
    progress: bool = True,
    executor: str = "process",
    workers: int = 0,
) -> dict[str, Any]:
    """Generate the default data and run the whole pipeline on it; returns a summary (and summary.json)."""
    out = Path(out_dir)
    collection = generate_collection(out / "data", seed=seed)
    summary: dict[str, Any] = {"data": str(collection.manifest), "experiments": {}}
    best_model = None
    best_accuracy = -1.0
    for name, config in demo_configs(executor=executor, workers=workers).items():
        source = read_manifest(
            collection.manifest,
            label=config.collection.label,
            group_columns=config.collection.group_columns,
            audio_root=collection.audio_root,
        )
        result = run_experiment(
            source,
            config,
            workspace=out / "workspace",
            out_dir=out / "runs" / name,
            progress=progress,
            title=f"Demo: {name} (label: producer)",
        )
        m = result.metrics
        summary["experiments"][name] = {
            "accuracy": m["accuracy"],
            "macro_f1": m["macro"]["f1"],
            "chance": m["chance"]["uniform"],
            "n_tracks": m["n_tracks"],
            "n_skipped": m["n_skipped"],
            "report": str(result.report_path),
            "model": str(result.model_path),
            "evaluation": m["evaluation"],
        }
        if m["accuracy"] > best_accuracy:
            best_accuracy, best_model = m["accuracy"], result.model_path
    assert best_model is not None
    # is the best model really better than the first study's method, on these tracks?
    summary["comparison"] = compare_runs(best_model.parent, out / "runs" / "seed_knn_pca")
    predictions = predict_files(best_model, [q[0] for q in collection.queries], top_k=3)
    summary["best_model"] = str(best_model)
    summary["predictions"] = [
        {**p.as_dict(), "true_producer": q[1], "artist": q[2]}
        for p, q in zip(predictions, collection.queries)
    ]
    summary["problems"] = (
        (out / "runs" / "seed_knn_pca" / "problems.txt").read_text(encoding="utf-8").splitlines()
    )
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary
