"""Shared fixtures: small synthetic audio files written from a seeded rng into ``tmp_path``."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import torch

# Small models on tiny data: one thread is fastest and never oversubscribes a loaded machine.
torch.set_num_threads(1)


def tone(freq: float, seconds: float, rate: int, *, channels: int = 1, amplitude: float = 0.3) -> np.ndarray:
    """A sine tone, shape ``(n, channels)`` float32."""
    t = np.arange(int(seconds * rate)) / rate
    mono = (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.repeat(mono[:, None], channels, axis=1)


def chirp(seconds: float, rate: int, *, f0: float = 100.0, f1: float = 4000.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * seconds))
    return (0.3 * np.sin(phase)).astype(np.float32)[:, None]


def clicks(seconds: float, rate: int, *, every_s: float = 0.25) -> np.ndarray:
    x = np.zeros((int(seconds * rate), 1), dtype=np.float32)
    x[:: int(every_s * rate)] = 0.9
    return x


def noise(seconds: float, rate: int, *, rng: np.random.Generator, channels: int = 2) -> np.ndarray:
    return (0.1 * rng.standard_normal((int(seconds * rate), channels))).astype(np.float32)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def write_audio(tmp_path: Path) -> Callable[..., Path]:
    """Write ``data (n, channels)`` at ``rate`` to ``tmp_path/name`` in the format its suffix names."""

    def write(name: str, data: np.ndarray, rate: int) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        suffix = path.suffix.lower()
        if suffix == ".ogg":
            sf.write(path, data, rate, format="OGG", subtype="VORBIS")
        elif suffix == ".opus":
            sf.write(path, data, rate, format="OGG", subtype="OPUS")
        elif suffix == ".mp3":
            sf.write(path, data, rate, format="MP3")
        elif suffix == ".m4a":
            _write_m4a(path, data, rate)
        else:
            sf.write(path, data, rate)
        return path

    return write


def _write_m4a(path: Path, data: np.ndarray, rate: int) -> None:
    import av

    layout = "stereo" if data.shape[1] == 2 else "mono"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=rate)
        stream.layout = layout
        for start in range(0, len(data), 1024):
            block = np.ascontiguousarray(data[start : start + 1024].T)
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout=layout)
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


@pytest.fixture
def bad_files(tmp_path: Path, write_audio: Callable[..., Path]) -> dict[str, Path]:
    """One file for each kind of bad input, keyed by the problem it has."""
    files = {}
    files["empty"] = tmp_path / "bad" / "empty.wav"
    files["empty"].parent.mkdir(parents=True, exist_ok=True)
    files["empty"].write_bytes(b"")
    files["not_audio"] = tmp_path / "bad" / "notes.mp3"
    files["not_audio"].write_text("this is a text file, not audio\n" * 20, encoding="utf-8")
    good = write_audio("bad/source.flac", tone(440, 2.0, 22050), 22050)
    files["corrupt"] = tmp_path / "bad" / "truncated.flac"
    files["corrupt"].write_bytes(
        b"fLaC" + bytes(np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8))
    )
    files["too_short"] = write_audio("bad/short.wav", tone(440, 0.5, 22050), 22050)
    files["silent"] = write_audio("bad/silent.wav", np.zeros((22050 * 2, 1), dtype=np.float32), 22050)
    files["missing"] = tmp_path / "bad" / "missing.wav"
    files["good"] = good
    return files


class FitCounter(list[int]):
    """The models trained so far (one entry each); training the ``stop_at``-th raises KeyboardInterrupt."""

    stop_at = 0


@pytest.fixture
def fits(monkeypatch: pytest.MonkeyPatch) -> FitCounter:
    """Counts every model a cross-validation or experiment trains, and can interrupt one (``stop_at``)."""
    import sonicprint.experiment

    counter = FitCounter()
    real = sonicprint.experiment.fit_tracks

    def counted(*args: Any, **kwargs: Any) -> Any:
        counter.append(1)
        if len(counter) == counter.stop_at:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(sonicprint.experiment, "fit_tracks", counted)
    return counter


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small classical model saved to disk, and a query recording it has never heard (a second one
    lies beside it in the same folder)."""
    from sonicprint.collection import read_manifest
    from sonicprint.config import CollectionConfig, ExperimentConfig, FeatureConfig, ModelConfig, SplitConfig
    from sonicprint.demo import generate_collection
    from sonicprint.experiment import run_experiment

    root = tmp_path_factory.mktemp("trained")
    made = generate_collection(
        root / "data", seed=4, producers=2, artists=2, tracks_per_pair=3, duration_s=6.0, queries=2
    )
    config = ExperimentConfig(
        collection=CollectionConfig(label="producer", min_duration_s=2.0),
        features=FeatureConfig(n_windows=2, window_s=3.0),
        model=ModelConfig("logreg"),
        split=SplitConfig(folds=2),
        executor="serial",
        maps=(),
    )
    source = read_manifest(made.manifest, label="producer", audio_root=made.audio_root)
    result = run_experiment(source, config, workspace=root / "ws", out_dir=root / "run", progress=False)
    return Path(result.model_path), Path(made.queries[0][0])


def with_albums(collection: Any, tmp_path: Path, album_of_producer: dict[str, str]) -> Any:
    """The collection with a rewritten manifest: each producer named in ``album_of_producer`` gets that one
    album for all of its tracks."""
    return rewritten(collection, tmp_path, "album", lambda row: album_of_producer.get(row["producer"]))


def relabelled(collection: Any, tmp_path: Path, producer_of: dict[str, str]) -> Any:
    """The collection with a rewritten manifest: each producer named in ``producer_of`` renamed to its
    value (several may share one, e.g. a background label)."""
    return rewritten(collection, tmp_path, "producer", lambda row: producer_of.get(row["producer"]))


def rewritten(collection: Any, tmp_path: Path, column: str, new_value: Any) -> Any:
    with collection.manifest.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row[column] = new_value(row) or row[column]
    manifest = tmp_path / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return replace(collection, manifest=manifest)
