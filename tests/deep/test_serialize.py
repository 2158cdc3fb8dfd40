"""Saved spectrogram networks: everything needed to predict comes back, read without unpickling, and a
file this version cannot use is refused by name."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from sonicprint.config import FeatureConfig
from sonicprint.deep.serialize import FORMAT, LoadedNetwork, save_network
from sonicprint.deep.train import ClipSet, predict_clips
from sonicprint.errors import ModelFormatError
from sonicprint.models.serialize import load_model
from tests.deep.conftest import CONFIG, RATE, train_quietly

LABELS = ["Ørjan", "久石譲"]


@pytest.fixture(scope="module")
def trained(data):  # type: ignore[no-untyped-def]
    return train_quietly(data, replace(CONFIG, epochs=2))


def test_a_saved_network_predicts_exactly_as_before_and_keeps_what_it_was_trained_with(
    trained, data, tmp_path
):
    _, _, val, val_labels = data
    audio = replace(FeatureConfig(), sample_rate=RATE, window_s=1.0)
    centroids = np.random.default_rng(0).normal(size=(2, trained.network.embedding_dim))
    path = save_network(
        tmp_path / "net.pt", trained, labels=LABELS, audio=audio, maker_centroids=centroids, extra={"k": 1}
    )
    loaded = load_model(path)
    assert isinstance(loaded, LoadedNetwork)
    assert loaded.labels == LABELS and loaded.audio == audio and loaded.meta["extra"] == {"k": 1}
    assert loaded.trained.config == trained.config and loaded.trained.history == trained.history
    np.testing.assert_allclose(loaded.maker_centroids, centroids, rtol=1e-6)
    np.testing.assert_array_equal(loaded.trained.norm_mean, trained.norm_mean.astype(np.float32))
    assert loaded.meta["versions"]["torch"] == torch.__version__
    clips = ClipSet.cut(val, val_labels, clip_samples=4000, hop_samples=4000)
    before, _ = predict_clips(trained, clips)
    after, _ = predict_clips(loaded.trained, clips)
    np.testing.assert_allclose(after, before, atol=1e-6)


def test_the_file_is_plain_tensors_and_containers(trained, tmp_path):
    path = save_network(tmp_path / "net.pt", trained, labels=LABELS, audio=FeatureConfig())
    payload = torch.load(path, weights_only=True)  # raises on anything that would need unpickling code
    assert payload["format"] == FORMAT and payload["labels"] == LABELS
    assert not list(tmp_path.glob("*.tmp"))  # written under a temporary name, then renamed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda p: p.update(format_version=99),
            r"net\.pt: network format 99 \(made by Sonicprint .+\) cannot be read by Sonicprint",
        ),
        (lambda p: p.update(labels=["only one"]), r"net\.pt: incompatible network contents"),
        (lambda p: p["train_config"].update(surprise=1), r"net\.pt: incompatible network contents"),
        (lambda p: p["state"].popitem(), r"net\.pt: incompatible network contents"),
    ],
    ids=["future_format", "labels_do_not_fit_the_weights", "unknown_config_key", "missing_weights"],
)
def test_a_network_file_this_version_cannot_use_is_refused_by_name(trained, tmp_path, change, message):
    path = save_network(tmp_path / "net.pt", trained, labels=LABELS, audio=FeatureConfig())
    payload = torch.load(path, weights_only=True)
    change(payload)
    torch.save(payload, path)
    with pytest.raises(ModelFormatError, match=message):
        load_model(path)
