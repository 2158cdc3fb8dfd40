"""Training on tiny synthetic data: clips after the split, determinism, resume, track decisions."""

from __future__ import annotations

import csv
from dataclasses import replace

import numpy as np
import pytest
import torch

from sonicprint.config import AugmentConfig, TrainConfig
from sonicprint.deep.clips import balanced_sample, cut_clips
from sonicprint.deep.train import ClipSet, predict_clips, track_log_probs, train_network
from sonicprint.errors import ConfigError

RATE = 8000


def _tracks(rng, n_per_class=6, seconds=2.0):
    """Class 0: low tones; class 1: bright noise bursts. Each track: two segments."""
    tracks, labels = [], []
    t = np.arange(int(seconds * RATE)) / RATE
    for label in (0, 1):
        for _ in range(n_per_class):
            segs = []
            for _ in range(2):
                if label == 0:
                    y = 0.3 * np.sin(2 * np.pi * rng.uniform(150, 300) * t)
                else:
                    y = 0.1 * rng.standard_normal(len(t)) * (np.sin(2 * np.pi * 4 * t) > 0)
                segs.append((y + 0.01 * rng.standard_normal(len(t))).astype(np.float32))
            tracks.append(segs)
            labels.append(label)
    return tracks, labels


CONFIG = TrainConfig(
    network="wavenet",
    network_params={"channels": 16, "layers": 3},
    clip_s=0.5,
    hop_s=0.5,
    n_mels=32,
    lr=0.01,
    epochs=4,
    patience=10,
    batch_size=8,
    seed=3,
    device="cpu",
)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    train, train_labels = _tracks(rng)
    val, val_labels = _tracks(rng, n_per_class=3)
    return train, train_labels, val, val_labels


def _train(data, config=CONFIG, **kwargs):  # type: ignore[no-untyped-def]
    """``train_network`` on the fixture's two-class data, quietly."""
    train, train_labels, val, val_labels = data
    options = {"n_classes": 2, "sample_rate": RATE, "config": config, "progress": False, **kwargs}
    return train_network(train, train_labels, val, val_labels, **options)


def test_clips_are_cut_inside_each_part_and_stay_in_their_track():
    clips = cut_clips([100, 30, 250], clip=50, hop=25)
    assert [(c.track, c.start) for c in clips if c.track == 0] == [(0, 0), (0, 25), (0, 50)]
    assert [c.start for c in clips if c.track == 1] == [0]  # shorter than a clip: one (padded) clip
    assert all(c.start + 50 <= 250 for c in clips if c.track == 2)
    tracks = [[np.zeros(100, np.float32)], [np.zeros(60, np.float32), np.zeros(80, np.float32)]]
    clip_set = ClipSet.cut(tracks, [0, 1], clip_samples=40, hop_samples=20)
    assert set(clip_set.clip_track.tolist()) == {0, 1}
    assert all(len(clip_set.audio(i)) == 40 for i in range(len(clip_set)))


def test_balanced_sampling_equalises_classes_without_copying_tracks():
    labels = [0] * 90 + [1] * 10
    picks = balanced_sample(labels, n=20000, rng=np.random.default_rng(0))
    share = np.mean(np.asarray(labels)[picks] == 1)
    assert 0.47 < share < 0.53


def test_track_verdict_is_the_mean_log_probability():
    clip_lp = np.log(np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]]))
    out = track_log_probs(clip_lp, np.array([0, 0, 1]), 2)
    expected = np.exp(np.mean(clip_lp[:2], axis=0))
    np.testing.assert_allclose(np.exp(out[0]), expected / expected.sum())
    assert out[1].argmax() == 1


def test_training_learns_and_is_deterministic(data):
    _, _, val, val_labels = data
    a = _train(data)
    b = _train(data)
    assert [h["train_loss"] for h in a.history] == [h["train_loss"] for h in b.history]
    assert a.history[-1]["val_track_accuracy"] == 1.0
    for p, q in zip(a.network.parameters(), b.network.parameters()):
        assert torch.equal(p, q)
    clips = ClipSet.cut(val, val_labels, clip_samples=4000, hop_samples=4000)
    lp, emb = predict_clips(a, clips, embeddings=True)
    assert lp.shape == (len(clips), 2) and emb.shape == (len(clips), a.network.embedding_dim)
    np.testing.assert_allclose(np.exp(lp).sum(axis=1), 1.0, atol=1e-5)


def test_interrupted_training_resumes_to_the_same_result(data, tmp_path):
    whole = _train(data)
    first = _train(data, checkpoint_dir=tmp_path, stop_after=2)
    assert len(first.history) == 2 and (tmp_path / "last.pt").is_file()
    resumed = _train(data, checkpoint_dir=tmp_path, resume=True)
    assert [h["train_loss"] for h in resumed.history] == [h["train_loss"] for h in whole.history]
    for p, q in zip(resumed.network.parameters(), whole.network.parameters()):
        assert torch.equal(p, q)


def test_a_checkpoint_resumes_only_under_the_settings_it_was_trained_with(data, tmp_path):
    _train(data, checkpoint_dir=tmp_path, stop_after=1)
    with pytest.raises(
        ConfigError, match=r"last\.pt was trained with other settings \(momentum: 0\.9 -> 0\.5\)"
    ):
        _train(data, replace(CONFIG, momentum=0.5), checkpoint_dir=tmp_path, resume=True)
    # how it runs is not what it computes: another thread count resumes
    resumed = _train(data, replace(CONFIG, augment_threads=1), checkpoint_dir=tmp_path, resume=True)
    assert len(resumed.history) == CONFIG.epochs


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
    assert (tmp_path / "run" / "data_hash.txt").read_text().strip() == first["data_hash"]
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


def test_lr_range_test_and_augmentation_run(data):
    config = replace(
        CONFIG,
        lr=None,
        lr_range_steps=12,
        epochs=1,
        augment=replace(AugmentConfig.robust(), tempo_change=0.0, pitch_semitones=0.0, codec_prob=0.0),
    )
    trained = _train(data, config)
    finder = trained.lr_finder
    assert finder is not None and 5 <= len(finder["lr"]) == len(finder["loss"]) <= 12
    assert finder["lr"] == sorted(finder["lr"]) and trained.lr == finder["suggestion"][0] > 0
    # 12 steps span 1e-5 to 1 (it may stop early once the loss diverges)
    assert finder["lr"][0] == pytest.approx(1e-5)
    assert np.allclose(np.diff(np.log(finder["lr"])), np.log(1e5) / 11)


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
    assert 'Answering "unknown"' in (tmp_path / "run" / "report.html").read_text()
    assert len(metrics["history"]) == 2 and all(len(h) == 2 for h in metrics["history"])
    assert 0 < metrics["inference_seconds_per_30s"] < 30
    with (tmp_path / "run" / "predictions.csv").open() as handle:
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
        train=replace(CONFIG, clip_s=1.0, hop_s=1.0, n_mels=32, epochs=1),
        maps=("tsne",),
        calibration="temperature",
        final_model=False,
    )
    source = read_manifest(made.manifest, label="producer", audio_root=made.audio_root)
    out = tmp_path / "run"
    metrics = run_deep_experiment(source, config, workspace=tmp_path / "ws", out_dir=out, progress=False)
    with (out / "predictions.csv").open() as handle:
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


def test_batch_size_halves_until_it_fits():
    from sonicprint.deep.melspec import LogMel
    from sonicprint.deep.train import _Inputs, choose_batch_size

    class FitsSixteen(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if x.shape[0] > 16:
                raise torch.cuda.OutOfMemoryError("simulated: batch too large")
            return x.mean(dim=(1, 2), keepdim=False)[:, None] * self.w

    inputs = _Inputs(LogMel(sample_rate=RATE, n_mels=16), np.zeros(16), np.ones(16), torch.device("cpu"))
    assert choose_batch_size(FitsSixteen(), inputs, 2048, start=256) == 16


def test_fast_augmentation_keeps_length_and_varies_with_the_rng():
    from sonicprint.deep.augment import augment_audio

    audio = (0.1 * np.random.default_rng(0).standard_normal(RATE * 2)).astype(np.float32)
    config = AugmentConfig.fast()
    a = augment_audio(audio, sample_rate=RATE, config=config, rng=np.random.default_rng(1))
    b = augment_audio(audio, sample_rate=RATE, config=config, rng=np.random.default_rng(1))
    c = augment_audio(audio, sample_rate=RATE, config=config, rng=np.random.default_rng(2))
    assert a.shape == audio.shape and a.dtype == np.float32 and np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_training_resumes_and_its_network_predicts_the_same_on_cpu(data, tmp_path):
    """The GPU path: batch size searched in GPU memory, augmentation on the device, resume from a
    checkpoint (CPU RNG states, CUDA weights), and a saved network that predicts alike on the CPU."""
    from sonicprint.config import FeatureConfig
    from sonicprint.deep.serialize import save_network
    from sonicprint.models.serialize import load_model

    _, _, val, val_labels = data
    config = replace(
        CONFIG,
        device="cuda",
        batch_size=0,
        augment=replace(AugmentConfig(), time_masks=1, freq_masks=1, mixup_alpha=0.2),
    )
    whole = _train(data, config)
    assert next(whole.network.parameters()).is_cuda
    assert whole.history[-1]["val_track_accuracy"] == 1.0
    _train(data, config, checkpoint_dir=tmp_path, stop_after=2)
    resumed = _train(data, config, checkpoint_dir=tmp_path, resume=True)
    # cuDNN may pick non-deterministic kernels, so the curves agree closely rather than bit for bit.
    np.testing.assert_allclose(
        [h["train_loss"] for h in resumed.history], [h["train_loss"] for h in whole.history], rtol=1e-3
    )
    clips = ClipSet.cut(val, val_labels, clip_samples=4000, hop_samples=4000)
    on_gpu, _ = predict_clips(whole, clips)
    path = save_network(tmp_path / "net.pt", whole, labels=["a", "b"], audio=FeatureConfig())
    loaded = load_model(path).trained
    assert not next(loaded.network.parameters()).is_cuda
    on_cpu, _ = predict_clips(loaded, clips)
    np.testing.assert_allclose(on_cpu, on_gpu, atol=1e-3)


def test_augmented_training_does_not_depend_on_the_thread_count(data):
    augment = replace(AugmentConfig(), gain_db=6.0, filter_prob=0.5, noise_prob=0.5, reverb_prob=0.5)
    runs = [
        _train(data, replace(CONFIG, epochs=2, augment=augment, augment_threads=threads))
        for threads in (1, 3)
    ]
    assert [h["train_loss"] for h in runs[0].history] == [h["train_loss"] for h in runs[1].history]
    plain = _train(data, replace(CONFIG, epochs=2))
    assert [h["train_loss"] for h in plain.history] != [h["train_loss"] for h in runs[0].history]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_asking_for_cuda_where_there_is_none_fails_before_any_work():
    from sonicprint.config import DeepExperimentConfig
    from sonicprint.deep.experiment import validate_deep_config
    from sonicprint.errors import ConfigError

    config = DeepExperimentConfig(train=replace(TrainConfig(), device="cuda"))
    with pytest.raises(ConfigError, match="device 'cuda' asked for, but torch sees no CUDA device"):
        validate_deep_config(config)
    validate_deep_config(replace(config, train=replace(config.train, device="auto")))  # falls back to CPU


def test_cpu_training_keeps_freed_memory_unless_told_not_to(data, monkeypatch):
    from sonicprint.deep import train as train_module

    calls = []
    monkeypatch.setattr(train_module, "keep_freed_memory", lambda: calls.append(True) or True)
    short = replace(CONFIG, epochs=1)
    _train(data, short)
    assert calls == [True]
    _train(data, replace(short, keep_freed_memory=False))
    assert calls == [True]  # not asked again


def test_progress_bars_name_the_stage_being_trained(data, capsys):
    config = replace(CONFIG, lr=None, lr_range_steps=5, epochs=1)
    _train(data, config, progress=True, stage="fold 2/5")
    shown = capsys.readouterr().err
    assert "fold 2/5: LR range test" in shown and "fold 2/5: epoch 1/1" in shown
