from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from sonicprint.config import DeepExperimentConfig, TrainConfig
from sonicprint.deep.experiment import validate_deep_config
from sonicprint.deep.melspec import LogMel
from sonicprint.deep.networks import NETWORKS, SpectrogramNetwork, create_network
from sonicprint.features import spectral
from sonicprint.registry import UnknownNameError

# every registered network with its defaults, plus the variants a constructor argument selects
VARIANTS = [(name, {}) for name in NETWORKS.names()] + [("wavenet", {"pooling": "mean_std"})]


@pytest.mark.parametrize(("name", "params"), VARIANTS)
def test_network_contract(name, params):
    torch.manual_seed(0)
    net = create_network(name, n_mels=64, n_classes=5, **params)
    assert isinstance(net, SpectrogramNetwork)  # the embedding and classifier tail the pipeline relies on
    x = torch.randn(3, 64, 87)
    net.train()
    logits = net(x)
    assert logits.shape == (3, 5) and torch.isfinite(logits).all()
    logits.sum().backward()
    assert all(
        p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters() if p.requires_grad
    )
    net.eval()
    with torch.no_grad():
        out = net(x)
        embedding = net.embed(x)
    assert embedding.shape == (3, net.embedding_dim)
    buffer = io.BytesIO()
    torch.save(net.state_dict(), buffer)
    buffer.seek(0)
    again = create_network(name, n_mels=64, n_classes=5, **params)
    again.load_state_dict(torch.load(buffer, weights_only=True))
    again.eval()
    with torch.no_grad():
        assert torch.equal(again(x), out)
    with torch.no_grad():  # any clip length works
        assert net(torch.randn(2, 64, 40)).shape == (2, 5)


def test_wavenet_pooling_is_checked():
    with pytest.raises(ValueError, match="pooling must be 'mean_max' or 'mean_std', got 'median'"):
        create_network("wavenet", n_mels=64, n_classes=2, pooling="median")


def test_unknown_network():
    with pytest.raises(UnknownNameError, match="known: crnn, densenet, resnet, resnext, wavenet"):
        create_network("vgg", n_mels=64, n_classes=2)


def test_torch_log_mel_matches_the_numpy_features(rng):
    audio = (0.1 * rng.standard_normal((2, 22050))).astype(np.float32)
    ours = LogMel(n_mels=64)(torch.from_numpy(audio)).numpy()
    basis = spectral.mel_filterbank(sample_rate=22050, n_fft=2048, n_mels=64)
    for i in range(2):
        ref = spectral.log_mel(spectral.power_spectrogram(audio[i]), mel_basis=basis)
        np.testing.assert_allclose(ours[i], ref, atol=1e-3)


def test_a_parameter_the_network_does_not_take_is_named():
    with pytest.raises(ValueError, match=r"network 'resnet' takes no parameter 'widht'; it takes: .*width"):
        create_network("resnet", n_mels=64, n_classes=2, widht=3)


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


def test_every_condition_of_a_fold_is_scaled_by_the_temperature_of_the_other_folds(rng):
    from sonicprint.deep.experiment import _calibrated
    from sonicprint.models import apply_temperature, fit_temperature

    logits = {cond: rng.normal(0, 4, (12, 3)) for cond in ("clean", "noise_20db")}
    track_lp = {c: v - np.log(np.exp(v).sum(axis=1, keepdims=True)) for c, v in logits.items()}
    truth, fold_of = rng.integers(0, 3, 12), np.repeat([0, 1, 2], 4)
    seen = np.ones(12, dtype=bool)
    scaled, temperature = _calibrated(track_lp, truth, fold_of, seen)
    clean = np.exp(track_lp["clean"])
    for fold in range(3):
        others = fold_of != fold
        t = fit_temperature(clean[others], truth[others])  # fitted on the clean condition only
        for cond, lp in track_lp.items():
            rows = fold_of == fold
            np.testing.assert_allclose(np.exp(scaled[cond][rows]), apply_temperature(np.exp(lp[rows]), t))
            assert np.array_equal(scaled[cond][rows].argmax(1), lp[rows].argmax(1))
    assert temperature == fit_temperature(clean, truth)
