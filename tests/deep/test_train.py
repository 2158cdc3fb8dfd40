"""Training on tiny synthetic data: determinism, resume, track decisions, devices, memory."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from sonicprint.config import AugmentConfig
from sonicprint.deep.melspec import LogMel
from sonicprint.deep.train import ClipSet, predict_clips, track_log_probs
from sonicprint.errors import ConfigError, FileProblem
from tests.deep.conftest import CONFIG, RATE, train_quietly


def test_track_verdict_is_the_mean_log_probability():
    clip_lp = np.log(np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]]))
    out = track_log_probs(clip_lp, np.array([0, 0, 1]), 2)
    expected = np.exp(np.mean(clip_lp[:2], axis=0))
    np.testing.assert_allclose(np.exp(out[0]), expected / expected.sum())
    assert out[1].argmax() == 1


def test_training_learns_and_is_deterministic(data):
    _, _, val, val_labels = data
    a = train_quietly(data)
    b = train_quietly(data)
    assert [h["train_loss"] for h in a.history] == [h["train_loss"] for h in b.history]
    assert a.history[-1]["val_track_accuracy"] == 1.0
    for p, q in zip(a.network.parameters(), b.network.parameters()):
        assert torch.equal(p, q)
    clips = ClipSet.cut(val, val_labels, clip_samples=4000, hop_samples=4000)
    lp, emb = predict_clips(a, clips, embeddings=True)
    assert lp.shape == (len(clips), 2) and emb.shape == (len(clips), a.network.embedding_dim)
    np.testing.assert_allclose(np.exp(lp).sum(axis=1), 1.0, atol=1e-5)


def test_interrupted_training_resumes_to_the_same_result(data, tmp_path):
    whole = train_quietly(data)
    first = train_quietly(data, checkpoint_dir=tmp_path, stop_after=2)
    assert len(first.history) == 2 and (tmp_path / "last.pt").is_file()
    resumed = train_quietly(data, checkpoint_dir=tmp_path, resume=True)
    assert [h["train_loss"] for h in resumed.history] == [h["train_loss"] for h in whole.history]
    for p, q in zip(resumed.network.parameters(), whole.network.parameters()):
        assert torch.equal(p, q)


def test_a_checkpoint_resumes_only_under_the_settings_it_was_trained_with(data, tmp_path):
    train_quietly(data, checkpoint_dir=tmp_path, stop_after=1)
    with pytest.raises(
        ConfigError, match=r"last\.pt was trained with other settings \(momentum: 0\.9 -> 0\.5\)"
    ):
        train_quietly(data, replace(CONFIG, momentum=0.5), checkpoint_dir=tmp_path, resume=True)
    # how it runs is not what it computes: another thread count resumes
    resumed = train_quietly(data, replace(CONFIG, augment_threads=1), checkpoint_dir=tmp_path, resume=True)
    assert len(resumed.history) == CONFIG.epochs


def test_a_damaged_checkpoint_is_named_and_not_resumed(data, tmp_path):
    train_quietly(data, checkpoint_dir=tmp_path, stop_after=1)
    checkpoint = tmp_path / "last.pt"
    checkpoint.write_bytes(checkpoint.read_bytes()[:1000])
    with pytest.raises(
        FileProblem, match=r"last\.pt: cannot resume from this checkpoint \(not a torch archive"
    ):
        train_quietly(data, checkpoint_dir=tmp_path, resume=True)


def test_lr_range_test_and_augmentation_run(data):
    config = replace(
        CONFIG,
        lr=None,
        lr_range_steps=12,
        epochs=1,
        augment=replace(AugmentConfig.robust(), tempo_change=0.0, pitch_semitones=0.0, codec_prob=0.0),
    )
    trained = train_quietly(data, config)
    finder = trained.lr_finder
    assert finder is not None and 5 <= len(finder["lr"]) == len(finder["loss"]) <= 12
    assert finder["lr"] == sorted(finder["lr"]) and trained.lr == finder["suggestion"][0] > 0
    # 12 steps span 1e-5 to 1 (it may stop early once the loss diverges)
    assert finder["lr"][0] == pytest.approx(1e-5)
    assert np.allclose(np.diff(np.log(finder["lr"])), np.log(1e5) / 11)


def test_batch_size_halves_until_it_fits():
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
    whole = train_quietly(data, config)
    assert next(whole.network.parameters()).is_cuda
    assert whole.history[-1]["val_track_accuracy"] == 1.0
    train_quietly(data, config, checkpoint_dir=tmp_path, stop_after=2)
    resumed = train_quietly(data, config, checkpoint_dir=tmp_path, resume=True)
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
        train_quietly(data, replace(CONFIG, epochs=2, augment=augment, augment_threads=threads))
        for threads in (1, 3)
    ]
    assert [h["train_loss"] for h in runs[0].history] == [h["train_loss"] for h in runs[1].history]
    plain = train_quietly(data, replace(CONFIG, epochs=2))
    assert [h["train_loss"] for h in plain.history] != [h["train_loss"] for h in runs[0].history]


def test_cpu_training_keeps_freed_memory_unless_told_not_to(data, monkeypatch):
    from sonicprint.deep import train as train_module

    calls = []
    monkeypatch.setattr(train_module, "keep_freed_memory", lambda: calls.append(True) or True)
    short = replace(CONFIG, epochs=1)
    train_quietly(data, short)
    assert calls == [True]
    train_quietly(data, replace(short, keep_freed_memory=False))
    assert calls == [True]  # not asked again


def test_progress_bars_name_the_stage_being_trained(data, capsys):
    config = replace(CONFIG, lr=None, lr_range_steps=5, epochs=1)
    train_quietly(data, config, progress=True, stage="fold 2/5")
    shown = capsys.readouterr().err
    assert "fold 2/5: LR range test" in shown and "fold 2/5: epoch 1/1" in shown


def test_spectrograms_computed_once_train_exactly_as_those_computed_every_epoch(data, monkeypatch):
    from sonicprint.deep import train as train_module
    from sonicprint.deep.train import ClipSpectrograms, _Inputs, _spectrogram_cache

    made = []

    class Counted(ClipSpectrograms):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            made.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(train_module, "ClipSpectrograms", Counted)
    kept = train_quietly(data, replace(CONFIG, epochs=2))
    assert len(made) == 2  # the training clips', then the validation clips'
    afresh = train_quietly(data, replace(CONFIG, epochs=2, spectrogram_cache_mb=0))
    assert len(made) == 2
    assert [h["train_loss"] for h in kept.history] == [h["train_loss"] for h in afresh.history]
    assert [h["val_loss"] for h in kept.history] == [h["val_loss"] for h in afresh.history]
    for p, q in zip(kept.network.parameters(), afresh.network.parameters()):
        assert torch.equal(p, q)
    train, train_labels, _, _ = data
    clips = ClipSet.cut(train, train_labels, clip_samples=4000, hop_samples=4000)
    logmel = LogMel(sample_rate=RATE, n_mels=32)
    inputs = _Inputs(logmel, np.zeros(32), np.ones(32), torch.device("cpu"))
    spectrograms = ClipSpectrograms(clips, inputs)
    batch = np.array([5, 0, 3])
    assert torch.equal(spectrograms[batch], inputs(np.stack([clips.audio(i) for i in batch])))
    size = ClipSpectrograms.megabytes(clips, logmel)
    assert size == pytest.approx(spectrograms.values.numel() * 4 / 2**20)
    assert _spectrogram_cache(clips, inputs, CONFIG, budget_mb=size) is not None
    assert _spectrogram_cache(clips, inputs, CONFIG, budget_mb=size * 0.99) is None  # over the budget
    noisy = replace(CONFIG, augment=replace(AugmentConfig(), noise_prob=0.5))
    assert _spectrogram_cache(clips, inputs, noisy, budget_mb=size) is None  # a clip differs every epoch
