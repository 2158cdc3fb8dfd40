"""Network experiments on tiny synthetic collections: splits, resume, checks before any work, calibration."""

from __future__ import annotations

import csv
from dataclasses import replace

import numpy as np
import pytest
import torch

from sonicprint.config import DeepExperimentConfig, TrainConfig
from sonicprint.deep.experiment import validate_deep_config
from sonicprint.errors import ConfigError
from sonicprint.registry import UnknownNameError
from tests.deep.conftest import CONFIG, RATE


@pytest.mark.parametrize(
    ("train", "match"),
    [
        ({"network": "crnn", "network_params": {"n_classes": 3}}, "'n_classes' is set by Sonicprint"),
        ({"network": "resnet", "network_params": {"widht": 3}}, "takes no parameter 'widht'"),
        ({"network": "wavenet", "network_params": {"pooling": "median"}}, "pooling must be"),
        ({"network": "vgg"}, "unknown network 'vgg'"),
    ],
)
def test_a_network_experiment_is_checked_before_any_work(train, match):
    config = DeepExperimentConfig(train=TrainConfig(**train))
    with pytest.raises((ValueError, UnknownNameError), match=match):
        validate_deep_config(config)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_asking_for_cuda_where_there_is_none_fails_before_any_work():
    from sonicprint.config import DeepExperimentConfig
    from sonicprint.deep.experiment import validate_deep_config
    from sonicprint.errors import ConfigError

    config = DeepExperimentConfig(train=replace(TrainConfig(), device="cuda"))
    with pytest.raises(ConfigError, match="device 'cuda' asked for, but torch sees no CUDA device"):
        validate_deep_config(config)
    validate_deep_config(replace(config, train=replace(config.train, device="auto")))  # falls back to CPU


def test_a_run_resumes_only_on_the_settings_and_collection_it_started_with(tmp_path):
    from sonicprint.collection import read_manifest
    from sonicprint.config import CollectionConfig, DeepExperimentConfig, FeatureConfig, SplitConfig
    from sonicprint.deep.experiment import run_deep_experiment
    from sonicprint.demo import generate_collection

    made = generate_collection(
        tmp_path / "data", seed=5, producers=2, artists=2, tracks_per_pair=2, duration_s=3.0, queries=0
    )
    config = DeepExperimentConfig(
        collection=CollectionConfig(label="producer", min_duration_s=2.0),
        audio=FeatureConfig(extractor="logmel", sample_rate=RATE, n_windows=1, window_s=3.0),
        split=SplitConfig(folds=2),
        train=replace(CONFIG, clip_s=1.0, hop_s=1.0, epochs=1),
        maps=(),
        final_model=False,
    )
    source = read_manifest(made.manifest, label="producer", audio_root=made.audio_root)
    run = {"workspace": tmp_path / "ws", "out_dir": tmp_path / "run", "progress": False}
    first = run_deep_experiment(source, config, **run)
    assert (tmp_path / "run" / "data_hash.txt").read_text(encoding="utf-8").strip() == first["data_hash"]
    with pytest.raises(ConfigError, match=r"run holds the checkpoints of an earlier run \(fold0/last\.pt, "):
        run_deep_experiment(source, config, **run)  # neither resumed nor overwritten: training is kept
    with pytest.raises(ConfigError, match=r"run was started with other settings \(split\.folds: 2 -> 3\)"):
        run_deep_experiment(source, replace(config, split=SplitConfig(folds=3)), resume=True, **run)
    relabelled = replace(source, tracks=[replace(source.tracks[0], label="Producer B"), *source.tracks[1:]])
    with pytest.raises(ConfigError, match=r"run was started on another collection \(data hash"):
        run_deep_experiment(relabelled, config, resume=True, **run)
    again = run_deep_experiment(source, replace(config, robustness=("clean", "pitch +2")), resume=True, **run)
    assert again["track"] == first["track"] and again["data_hash"] == first["data_hash"]
    afresh = run_deep_experiment(source, replace(config, split=SplitConfig(folds=3)), overwrite=True, **run)
    assert afresh["evaluation"].startswith("3-fold") and (tmp_path / "run" / "fold2" / "last.pt").is_file()


def test_a_network_refuses_a_background_label_without_tracks_before_any_training(tmp_path):
    from sonicprint.collection import read_manifest
    from sonicprint.config import CollectionConfig, DeepExperimentConfig, FeatureConfig
    from sonicprint.deep.experiment import run_deep_experiment
    from sonicprint.demo import generate_collection
    from sonicprint.errors import ConfigError

    made = generate_collection(
        tmp_path / "data", seed=5, producers=2, artists=1, tracks_per_pair=2, duration_s=2.0, queries=0
    )
    config = DeepExperimentConfig(
        collection=CollectionConfig(label="producer", min_duration_s=1.0, background="other"),
        audio=FeatureConfig(extractor="logmel", sample_rate=11025, n_windows=1, window_s=2.0),
        train=CONFIG,
    )
    source = read_manifest(made.manifest, label="producer", audio_root=made.audio_root)
    with pytest.raises(
        ConfigError, match=r"background label 'other' has no usable track; labels found: Prod"
    ):
        run_deep_experiment(
            source, config, workspace=tmp_path / "ws", out_dir=tmp_path / "run", progress=False
        )
    assert not (tmp_path / "run" / "fold0").exists()


def test_a_network_never_trains_on_a_silent_or_undecodable_track(tmp_path, write_audio):
    from sonicprint.collection.sources import CollectionSource, TrackSource
    from sonicprint.config import CollectionConfig, DeepExperimentConfig, FeatureConfig
    from sonicprint.deep.experiment import load_tracks
    from sonicprint.pipeline import Workspace, build_collection

    rng = np.random.default_rng(0)
    sound = write_audio("sound.wav", 0.1 * rng.standard_normal((2 * RATE, 1)).astype(np.float32), RATE)
    constant = write_audio("constant.wav", np.full((2 * RATE, 1), 0.25, dtype=np.float32), RATE)
    tracks = [TrackSource(str(sound), "A"), TrackSource(str(constant), "B")]
    config = DeepExperimentConfig(
        collection=CollectionConfig(min_duration_s=1.0),
        audio=FeatureConfig(extractor="logmel", sample_rate=RATE, n_windows=1, window_s=2.0),
        train=CONFIG,
    )
    with Workspace(tmp_path / "ws") as ws:
        build_collection(
            ws, CollectionSource(tracks, [], "label", (), "t"), min_duration_s=1.0, progress=False
        )
        constant.write_bytes(b"")  # gone bad since it was checked in
        kept, labels, audio, errors = load_tracks(ws, config, progress=False)
        assert [r.path for r in kept] == [str(sound)] and labels == ["A"] and len(audio) == 1
        assert errors == [(str(constant), "empty file (0 bytes)")]
        write_audio("constant.wav", np.full((2 * RATE, 1), 0.25, dtype=np.float32), RATE)
        kept, labels, audio, errors = load_tracks(ws, config, progress=False)
    assert [r.path for r in kept] == [str(sound)]
    assert errors == [
        (
            str(constant),
            "silent: no sound above -100 dBFS in the analysed audio (a constant level is no sound), "
            "nothing to attribute",
        )
    ]


def test_deep_experiment_end_to_end(tmp_path):
    """Clips after the split, clip and track metrics, a robustness row per condition, curves and report."""
    from sonicprint.collection import read_manifest
    from sonicprint.config import CollectionConfig, DeepExperimentConfig, FeatureConfig, SplitConfig
    from sonicprint.deep.experiment import run_deep_experiment
    from sonicprint.demo import generate_collection

    made = generate_collection(
        tmp_path / "data", seed=5, producers=2, artists=2, tracks_per_pair=3, duration_s=4.0, queries=0
    )
    config = DeepExperimentConfig(
        collection=CollectionConfig(label="producer", min_duration_s=2.0),
        audio=FeatureConfig(extractor="logmel", sample_rate=11025, n_windows=1, window_s=4.0),
        split=SplitConfig(folds=2),
        train=replace(CONFIG, clip_s=1.0, hop_s=1.0, n_mels=32, epochs=2),
        robustness=("clean", "low-pass 3 kHz", "noise 20 dB SNR"),
        maps=("tsne",),
        grid_momentum=(0.5, 0.9),  # no weight decays to search: the training config's alone
        grid_epochs=1,
    )
    source = read_manifest(made.manifest, label="producer", audio_root=made.audio_root)
    metrics = run_deep_experiment(
        source, config, workspace=tmp_path / "ws", out_dir=tmp_path / "run", progress=False
    )
    assert metrics["n_tracks"] == 12 and sum(metrics["decoders"].values()) == 12
    searched = [(r["momentum"], r["weight_decay"]) for r in metrics["grid_search"]]
    assert searched == [(0.5, CONFIG.weight_decay), (0.9, CONFIG.weight_decay)]
    assert metrics["clip"]["n"] == 12 * 4 and metrics["track"]["n"] == 12
    assert set(metrics["robustness"]) == {"clean", "low-pass 3 kHz", "noise 20 dB SNR"}
    assert metrics["robustness"]["clean"] == metrics["track"]["accuracy"]
    answered = [r["answered"] for r in metrics["track"]["unknown_below"]]
    assert answered == sorted(answered, reverse=True) and 0 < answered[0] <= 1
    assert 'Answering "unknown"' in (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert len(metrics["history"]) == 2 and all(len(h) == 2 for h in metrics["history"])
    assert 0 < metrics["inference_seconds_per_30s"] < 30
    with (tmp_path / "run" / "predictions.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    probability = [[float(r[f"probability:{p}"]) for p in ("Producer A", "Producer B")] for r in rows]
    np.testing.assert_allclose(np.sum(probability, axis=1), 1.0, atol=1e-4)
    assert [r["predicted:clean"] for r in rows] == [
        ("Producer A", "Producer B")[int(np.argmax(p))] for p in probability
    ]
    for name in (
        "report.html",
        "metrics.json",
        "config.json",
        "training_curves.png",
        "map_tsne.png",
        "fold0/last.pt",
        "fold1/last.pt",
    ):
        assert (tmp_path / "run" / name).is_file(), name


def test_deep_holdout_trains_once_and_scores_the_test_part_only(tmp_path):
    """The second study's 60/20/20 split: one network, early-stopped on the validation part, metrics on the
    test part; no track crosses parts; the validation part is predicted for calibration and listed."""
    from sonicprint.collection import read_manifest
    from sonicprint.config import CollectionConfig, DeepExperimentConfig, FeatureConfig, SplitConfig
    from sonicprint.deep.experiment import run_deep_experiment
    from sonicprint.demo import generate_collection

    made = generate_collection(
        tmp_path / "data", seed=5, producers=2, artists=2, tracks_per_pair=5, duration_s=3.0, queries=0
    )
    config = DeepExperimentConfig(
        collection=CollectionConfig(label="producer", min_duration_s=2.0),
        audio=FeatureConfig(extractor="logmel", sample_rate=11025, n_windows=1, window_s=3.0),
        split=SplitConfig(method="holdout"),
        train=replace(CONFIG, clip_s=1.0, hop_s=1.0, n_mels=32, epochs=1, momentum=0.3),
        maps=("tsne",),
        calibration="temperature",
        final_model=False,
        grid_momentum=(0.5, 0.9),
        grid_epochs=1,
    )
    source = read_manifest(made.manifest, label="producer", audio_root=made.audio_root)
    out = tmp_path / "run"
    metrics = run_deep_experiment(source, config, workspace=tmp_path / "ws", out_dir=out, progress=False)
    with (out / "predictions.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    parts = {part: {r["content_hash"] for r in rows if r["fold"] == part} for part in ("val", "test")}
    assert sorted({r["fold"] for r in rows}) == ["test", "val"]
    assert parts["val"] and parts["test"] and not parts["val"] & parts["test"]
    assert len(rows) < metrics["n_tracks"] == 20  # the training part is not predicted
    assert metrics["track"]["n"] == metrics["n_scored"] == len(parts["test"])
    assert metrics["clip"]["n"] == 3 * len(parts["test"])  # three 1 s clips per test track
    assert metrics["evaluation"].startswith("holdout 60%/20%/20% train/val/test, track-disjoint")
    assert "fitted on the validation part" in metrics["evaluation"]
    assert len(metrics["history"]) == 1 and (out / "holdout" / "last.pt").is_file()
    # the search saw no test track, so the scored network trains with its choice
    trained_with = torch.load(out / "holdout" / "last.pt", weights_only=True)["config"]
    assert len(metrics["grid_search"]) == 2
    assert trained_with["momentum"] == metrics["final_model_train_config"]["momentum"] in (0.5, 0.9)
    assert not (out / "fold0").exists() and (out / "map_tsne.png").is_file()


def test_deep_experiment_scores_only_labels_seen_in_training(tmp_path):
    """Album-disjoint: a producer whose tracks share one album is not scored (track or clip); when no
    producer spans two albums, the run stops before training."""
    from sonicprint.collection import read_manifest
    from sonicprint.config import CollectionConfig, DeepExperimentConfig, FeatureConfig, SplitConfig
    from sonicprint.deep.experiment import run_deep_experiment
    from sonicprint.demo import generate_collection
    from sonicprint.errors import ConfigError
    from tests.conftest import with_albums

    made = generate_collection(
        tmp_path / "data", seed=5, producers=3, artists=1, tracks_per_pair=4, duration_s=3.0, queries=0
    )
    config = DeepExperimentConfig(
        collection=CollectionConfig(label="producer", group_columns=("album",), min_duration_s=2.0),
        audio=FeatureConfig(extractor="logmel", sample_rate=11025, n_windows=1, window_s=3.0),
        split=SplitConfig(folds=2, group="album"),
        train=replace(CONFIG, clip_s=1.0, hop_s=1.0, n_mels=32, epochs=1),
        maps=(),
        final_model=False,
    )
    producers = sorted({row["producer"] for row in csv.DictReader(made.manifest.open())} - {""})

    def run(collection, out):  # type: ignore[no-untyped-def]
        source = read_manifest(
            collection.manifest, label="producer", group_columns=["album"], audio_root=collection.audio_root
        )
        return run_deep_experiment(
            source, config, workspace=tmp_path / "ws", out_dir=tmp_path / out, progress=False
        )

    metrics = run(with_albums(made, tmp_path, {producers[0]: "one album"}), "run")
    # the one-album producer is never scored; another may also miss out if both its albums share a fold
    assert metrics["not_scored"][producers[0]] == 4
    n_not_scored = sum(metrics["not_scored"].values())
    assert 0 < metrics["n_scored"] == metrics["track"]["n"] == metrics["n_tracks"] - n_not_scored
    assert metrics["clip"]["n"] == 3 * metrics["n_scored"]  # three 1 s clips per scored track
    assert f"{n_not_scored} tracks of {len(metrics['not_scored'])} label" in metrics["evaluation"]
    shares = metrics["track"]["not_scored_unknown"]
    assert len(shares) == len(metrics["track"]["unknown_below"]) and shares == sorted(shares)
    solo = with_albums(made, tmp_path, {p: f"{p} solo" for p in producers})
    with pytest.raises(ConfigError, match="album-disjoint splits leave no evaluated track"):
        run(solo, "solo")
    assert not (tmp_path / "solo" / "fold0").exists()


def test_every_condition_of_a_fold_is_scaled_by_the_temperature_of_the_other_folds(rng):
    from sonicprint.deep.experiment import _calibrated
    from sonicprint.models import apply_temperature, fit_temperature

    logits = {cond: rng.normal(0, 4, (12, 3)) for cond in ("clean", "noise_20db")}
    track_lp = {c: v - np.log(np.exp(v).sum(axis=1, keepdims=True)) for c, v in logits.items()}
    truth, part_of = rng.integers(0, 3, 12), np.repeat(np.array(["0", "1", "2"], dtype=object), 4)
    seen = np.ones(12, dtype=bool)
    scaled, temperature = _calibrated(track_lp, truth, part_of, seen)
    clean = np.exp(track_lp["clean"])
    for fold in ("0", "1", "2"):
        others = part_of != fold
        t = fit_temperature(clean[others], truth[others])  # fitted on the clean condition only
        for cond, lp in track_lp.items():
            rows = part_of == fold
            np.testing.assert_allclose(np.exp(scaled[cond][rows]), apply_temperature(np.exp(lp[rows]), t))
            assert np.array_equal(scaled[cond][rows].argmax(1), lp[rows].argmax(1))
    assert temperature == fit_temperature(clean, truth)
