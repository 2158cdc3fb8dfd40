"""Spectrogram networks, chosen by name from a registry. Plain torch: no torchvision or torchaudio.

Every network maps log-mel clips ``(batch, n_mels, t)`` to logits ``(batch, n_classes)`` and exposes
``embed`` (the penultimate layer, for maps) — the contract test runs over the whole registry.
Sizes suit spectrograms of a few seconds and collections of hundreds of tracks, not ImageNet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..registry import Registry

NETWORKS: Registry[Callable[..., nn.Module]] = Registry("network")


def create_network(name: str, *, n_mels: int, n_classes: int, **params: Any) -> SpectrogramNetwork:
    """A new network ``name`` for ``n_mels``-band input and ``n_classes`` outputs, with constructor arguments
    ``params`` (errors: :meth:`sonicprint.registry.Registry.create`)."""
    return NETWORKS.create(name, params, fixed={"n_mels": n_mels, "n_classes": n_classes})  # type: ignore[return-value]


def list_networks() -> list[str]:
    return NETWORKS.names()


class SpectrogramNetwork(nn.Module):
    """What every registered network is: ``features`` (its own layers, pooled to an ``embedding_dim``
    embedding), then the shared tail of dropout and a linear classifier. ``embed`` gives the embedding the
    maps and "sounds like" search use."""

    embedding_dim: int

    def features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(self.features(x)))

    def _tail(self, dim: int, n_classes: int, dropout: float) -> None:
        self.embedding_dim = dim
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(dim, n_classes)


def _pool(x: torch.Tensor) -> torch.Tensor:
    """Mean and max over time and frequency of ``(batch, c, f, t)``, concatenated: ``(batch, 2c)``."""
    return torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)


class _ResidualBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, *, stride: int, groups: int = 1, bottleneck: int = 0) -> None:
        super().__init__()
        mid = bottleneck or c_out
        if bottleneck:  # ResNeXt: 1x1 reduce, grouped 3x3, 1x1 expand
            self.body = nn.Sequential(
                nn.Conv2d(c_in, mid, 1, bias=False),
                nn.BatchNorm2d(mid),
                nn.ReLU(inplace=True),
                nn.Conv2d(mid, mid, 3, stride=stride, padding=1, groups=groups, bias=False),
                nn.BatchNorm2d(mid),
                nn.ReLU(inplace=True),
                nn.Conv2d(mid, c_out, 1, bias=False),
                nn.BatchNorm2d(c_out),
            )
        else:
            self.body = nn.Sequential(
                nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
                nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
            )
        self.skip = (
            nn.Identity()
            if stride == 1 and c_in == c_out
            else nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.body(x) + self.skip(x))


def _stem(channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(channels),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


@NETWORKS.register("resnet")
class ResNet(SpectrogramNetwork):
    """A small ResNet: stem, then stages of two residual blocks, channels doubling as resolution halves."""

    def __init__(
        self,
        *,
        n_mels: int,
        n_classes: int,
        width: int = 16,
        stages: int = 4,
        dropout: float = 0.3,
        groups: int = 1,
        bottleneck_ratio: float = 0.0,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [_stem(width)]
        c = width
        for stage in range(stages):
            out = width * 2**stage
            mid = int(out * bottleneck_ratio) // groups * groups if bottleneck_ratio else 0
            layers += [
                _ResidualBlock(c, out, stride=1 if stage == 0 else 2, groups=groups, bottleneck=mid),
                _ResidualBlock(out, out, stride=1, groups=groups, bottleneck=mid),
            ]
            c = out
        self.body = nn.Sequential(*layers)
        self._tail(2 * c, n_classes, dropout)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return _pool(self.body(x.unsqueeze(1)))


@NETWORKS.register("resnext")
class ResNeXt(ResNet):
    """ResNet with ResNeXt blocks: 1x1 reduce, grouped 3x3 (cardinality ``groups``), 1x1 expand."""

    def __init__(
        self,
        *,
        n_mels: int,
        n_classes: int,
        width: int = 32,
        stages: int = 4,
        dropout: float = 0.3,
        groups: int = 8,
    ) -> None:
        super().__init__(
            n_mels=n_mels,
            n_classes=n_classes,
            width=width,
            stages=stages,
            dropout=dropout,
            groups=groups,
            bottleneck_ratio=0.5,
        )


class _DenseLayer(nn.Module):
    def __init__(self, c_in: int, growth: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm2d(c_in), nn.ReLU(inplace=True), nn.Conv2d(c_in, growth, 3, padding=1, bias=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.body(x)], dim=1)


@NETWORKS.register("densenet")
class DenseNet(SpectrogramNetwork):
    """A small DenseNet: dense blocks (each layer sees all earlier maps), 1x1 + pooling transitions."""

    def __init__(
        self,
        *,
        n_mels: int,
        n_classes: int,
        growth: int = 12,
        blocks: tuple[int, ...] = (3, 3, 3),
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        c = 2 * growth
        layers: list[nn.Module] = [_stem(c)]
        for i, n_layers in enumerate(blocks):
            for _ in range(n_layers):
                layers.append(_DenseLayer(c, growth))
                c += growth
            if i < len(blocks) - 1:
                layers += [
                    nn.BatchNorm2d(c),
                    nn.ReLU(inplace=True),
                    nn.Conv2d(c, c // 2, 1, bias=False),
                    nn.AvgPool2d(2),
                ]
                c //= 2
        layers += [nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
        self.body = nn.Sequential(*layers)
        self._tail(2 * c, n_classes, dropout)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return _pool(self.body(x.unsqueeze(1)))


@NETWORKS.register("crnn")
class CRNN(SpectrogramNetwork):
    """Convolutions then a GRU over time (Nasrullah & Zhao 2019): four conv blocks pooling mostly frequency,
    a 2-layer GRU, and the last hidden state as the embedding."""

    def __init__(
        self, *, n_mels: int, n_classes: int, channels: int = 32, hidden: int = 64, dropout: float = 0.3
    ) -> None:
        super().__init__()
        pools = [(2, 2), (4, 2), (4, 2), (4, 2)]
        layers: list[nn.Module] = []
        c = 1
        for pool in pools:
            layers += [
                nn.Conv2d(c, channels, 3, padding=1, bias=False),
                nn.BatchNorm2d(channels),
                nn.ELU(),
                nn.MaxPool2d(pool, ceil_mode=True),
                nn.Dropout(0.1),
            ]
            c = channels
        self.conv = nn.Sequential(*layers)
        freq = n_mels
        for pool in pools:
            freq = -(-freq // pool[0])
        self.gru = nn.GRU(channels * freq, hidden, num_layers=2, batch_first=True)
        self._tail(hidden, n_classes, dropout)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        maps = self.conv(x.unsqueeze(1))  # (batch, c, f, t)
        sequence = maps.permute(0, 3, 1, 2).flatten(2)  # (batch, t, c * f)
        _, hidden = self.gru(sequence)
        return hidden[-1]


@NETWORKS.register("wavenet")
class WaveNet(SpectrogramNetwork):
    """A 1-D stack of gated, dilated convolutions over time with residual and skip connections (WaveNet
    style), mel bands as input channels.

    ``pooling`` summarises the frames of a clip: ``"mean_max"`` (mean and max over time), or
    ``"mean_std"`` (mean and standard deviation, the statistics pooling of x-vector speaker embeddings).
    """

    def __init__(
        self,
        *,
        n_mels: int,
        n_classes: int,
        channels: int = 64,
        layers: int = 8,
        dropout: float = 0.3,
        pooling: str = "mean_max",
    ) -> None:
        super().__init__()
        if pooling not in ("mean_max", "mean_std"):
            raise ValueError(f"pooling must be 'mean_max' or 'mean_std', got {pooling!r}")
        self.pooling = pooling
        self.input = nn.Conv1d(n_mels, channels, 1)
        self.filters = nn.ModuleList()
        self.gates = nn.ModuleList()
        self.residual = nn.ModuleList()
        for i in range(layers):
            d = 2 ** (i % 6)
            self.filters.append(nn.Conv1d(channels, channels, 3, padding=d, dilation=d))
            self.gates.append(nn.Conv1d(channels, channels, 3, padding=d, dilation=d))
            if i < layers - 1:  # the last layer feeds only the skip sum
                self.residual.append(nn.Conv1d(channels, channels, 1))
        self.norm = nn.BatchNorm1d(channels)
        self._tail(2 * channels, n_classes, dropout)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = self.input(x)
        skip = torch.zeros_like(h)
        for i, (f, g) in enumerate(zip(self.filters, self.gates)):
            z = torch.tanh(f(h)) * torch.sigmoid(g(h))
            skip = skip + z
            if i < len(self.residual):
                h = h + self.residual[i](z)
        s = F.relu(self.norm(skip))
        if self.pooling == "mean_std":
            return torch.cat([s.mean(dim=2), s.std(dim=2)], dim=1)
        return torch.cat([s.mean(dim=2), s.amax(dim=2)], dim=1)
