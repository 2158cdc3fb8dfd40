"""The network registry: every network's contract, and its errors."""

from __future__ import annotations

import io

import pytest
import torch

from sonicprint.deep.networks import NETWORKS, SpectrogramNetwork, create_network
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


def test_a_parameter_the_network_does_not_take_is_named():
    with pytest.raises(ValueError, match=r"network 'resnet' takes no parameter 'widht'; it takes: .*width"):
        create_network("resnet", n_mels=64, n_classes=2, widht=3)
