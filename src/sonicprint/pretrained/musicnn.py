"""musicnn (Pons & Serra, 2019) in plain torch, loading the weights that the ``musicnn`` package ships.

The package (ISC licence) holds TensorFlow 1 checkpoints; they are read with our own checkpoint reader,
so TensorFlow is never imported. Architecture (``build_musicnn`` in musicnn/models.py): a front end of
timbral (7x38, 7x67) and temporal (128x1, 64x1, 32x1) convolutions, each max-pooled over frequency; a mid
end of three 7-tap convolutions with residual connections; a back end of max and mean pooling over time,
a 200-unit dense layer (the penultimate embedding) and the 50-tag output. The package also ships the
authors' VGG-style baselines (``vgg`` in musicnn/models.py): five 3x3 convolutions of 128 filters, each
batch-normalised and max-pooled, then the 50-tag output on the flattened last pooling (256 values).

Input: log-compressed mel spectrograms, 96 bands, 16 kHz, n_fft 512, hop 256, in patches of 187 frames
(3 s). The original computes ``log10(10000 * mel + 1)`` in float16, which overflows to infinity for mel
power above 6.55 on ordinary music; :func:`musicnn_input` computes it in float32.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TypeVar, cast

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..errors import CheckpointError
from ..features import spectral
from .tf_checkpoint import TFCheckpoint

SAMPLE_RATE = 16000
N_FFT = 512
HOP = 256
N_MELS = 96
PATCH_FRAMES = 187  # librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1
VARIANTS = ("MSD_musicnn", "MTT_musicnn")
VGG_VARIANTS = ("MSD_vgg", "MTT_vgg")
_BN_EPS = 1e-3  # tf.compat.v1.layers.batch_normalization default

INSTALL_HINT = "install the weights with: pip install --no-deps musicnn==0.1.0"


class _BatchNorm(nn.Module):
    """Inference-only batch normalisation over dimension 1, with TensorFlow's parameters."""

    gamma: torch.Tensor
    beta: torch.Tensor
    moving_mean: torch.Tensor
    moving_variance: torch.Tensor

    def __init__(self, channels: int) -> None:
        super().__init__()
        for name in ("gamma", "beta", "moving_mean", "moving_variance"):
            self.register_buffer(name, torch.zeros(channels))

    def scale(self) -> torch.Tensor:
        return self.gamma / torch.sqrt(self.moving_variance + _BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, -1) + (1,) * (x.dim() - 2)
        return (x - self.moving_mean.view(shape)) * self.scale().view(shape) + self.beta.view(shape)


_Layer = TypeVar("_Layer", bound=nn.Module)


def _layers(modules: nn.ModuleList, kind: type[_Layer]) -> list[_Layer]:
    """``modules`` typed as the layers they are (a ModuleList types its items as plain modules)."""
    layers = list(modules)
    assert all(isinstance(layer, kind) for layer in layers)
    return cast(list[_Layer], layers)


def _pool_frequency(conv_out: torch.Tensor, bn: _BatchNorm) -> torch.Tensor:
    """``max over frequency of bn(relu(conv_out))``, computed on the pooled tensor.

    ReLU is monotonic and batch norm an affine map per channel, so the max commutes with both, the max
    becoming a min where a channel's scale is negative. Pooling first skips two passes over the largest
    tensors of the network (half its CPU time) and gives the same numbers.
    """
    negative = bn.scale() < 0
    pooled = conv_out.amax(dim=3)
    if bool(negative.any()):
        pooled = torch.where(negative.view(1, -1, 1), conv_out.amin(dim=3), pooled)
    return bn(F.relu(pooled))


class MusiCNN(nn.Module):
    """The musicnn tagger. ``forward`` takes ``(batch, 187, 96)`` log-mel patches and returns a dict:
    ``tags`` (sigmoid, 50), ``logits``, ``penultimate`` (200), ``mean_pool`` and ``max_pool`` (753 each)."""

    def __init__(
        self, n_classes: int = 50, n_mels: int = N_MELS, mid_filters: int = 64, dense_units: int = 200
    ):
        super().__init__()
        timbral = int(1.6 * 128)
        temporal = int(1.6 * 32)
        self.bn_input = _BatchNorm(1)
        self.timbral = nn.ModuleList([nn.Conv2d(1, timbral, (7, int(k * n_mels))) for k in (0.4, 0.7)])
        self.temporal = nn.ModuleList([nn.Conv2d(1, temporal, (k, 1)) for k in (128, 64, 32)])
        self.front_bn = nn.ModuleList(
            [_BatchNorm(timbral) for _ in range(2)] + [_BatchNorm(temporal) for _ in range(3)]
        )
        front = 2 * timbral + 3 * temporal
        self.mid = nn.ModuleList(
            [nn.Conv1d(front, mid_filters, 7)] + [nn.Conv1d(mid_filters, mid_filters, 7) for _ in range(2)]
        )
        self.mid_bn = nn.ModuleList([_BatchNorm(mid_filters) for _ in range(3)])
        pooled = front + 3 * mid_filters
        self.pool_bn = _BatchNorm(2 * pooled)
        self.dense = nn.Linear(2 * pooled, dense_units)
        self.dense_bn = _BatchNorm(dense_units)
        self.output = nn.Linear(dense_units, n_classes)

    def forward(self, patches: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.bn_input(patches.unsqueeze(1))  # (batch, 1, time, mel)
        front = []
        padded = F.pad(x, (0, 0, 3, 3))
        front_bn = _layers(self.front_bn, _BatchNorm)
        for conv, bn in zip(self.timbral, front_bn[:2]):
            front.append(_pool_frequency(conv(padded), bn))
        for conv, bn in zip(_layers(self.temporal, nn.Conv2d), front_bn[2:]):
            k = conv.kernel_size[0]
            same = F.pad(x, (0, 0, (k - 1) // 2, k - 1 - (k - 1) // 2))  # TensorFlow's 'same' for even k
            front.append(_pool_frequency(conv(same), bn))
        front_features = torch.cat(front, dim=1)  # (batch, 561, time)
        mid1 = self.mid_bn[0](F.relu(self.mid[0](F.pad(front_features, (3, 3)))))
        mid2 = self.mid_bn[1](F.relu(self.mid[1](F.pad(mid1, (3, 3))))) + mid1
        mid3 = self.mid_bn[2](F.relu(self.mid[2](F.pad(mid2, (3, 3))))) + mid2
        features = torch.cat([front_features, mid1, mid2, mid3], dim=1)  # (batch, 753, time)
        max_pool = features.amax(dim=2)
        mean_pool = features.mean(dim=2)
        flat = torch.stack([max_pool, mean_pool], dim=2).flatten(1)  # TensorFlow's flatten order
        penultimate = self.dense_bn(F.relu(self.dense(self.pool_bn(flat))))
        logits = self.output(penultimate)
        return {
            "logits": logits,
            "tags": torch.sigmoid(logits),
            "penultimate": penultimate,
            "mean_pool": mean_pool,
            "max_pool": max_pool,
        }


class MusicVGG(nn.Module):
    """The musicnn package's VGG tagger. ``forward`` takes ``(batch, 187, 96)`` log-mel patches and returns
    a dict: ``tags`` (sigmoid, 50), ``logits``, ``pool5`` (the flattened last pooling, 256, the input of the
    tag layer) and ``pooled`` (each of the five pooled maps averaged over time and frequency, 640)."""

    # (time, frequency) pooling size and stride of each block, as in musicnn/models.py
    POOLS = (((4, 1), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((4, 4), (4, 4)))

    def __init__(self, n_classes: int = 50, filters: int = 128) -> None:
        super().__init__()
        self.bn_input = _BatchNorm(1)
        self.convs = nn.ModuleList(
            [nn.Conv2d(1 if i == 0 else filters, filters, 3, padding=1) for i in range(len(self.POOLS))]
        )
        self.bns = nn.ModuleList([_BatchNorm(filters) for _ in self.POOLS])
        self.output = nn.Linear(2 * filters, n_classes)

    def forward(self, patches: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.bn_input(patches.unsqueeze(1))  # (batch, 1, time, mel)
        means = []
        for conv, bn, (size, stride) in zip(self.convs, self.bns, self.POOLS):
            x = F.max_pool2d(bn(F.relu(conv(x))), size, stride)
            means.append(x.mean(dim=(2, 3)))
        pool5 = x.permute(0, 2, 3, 1).flatten(1)  # TensorFlow's NHWC flatten order
        logits = self.output(pool5)
        return {
            "logits": logits,
            "tags": torch.sigmoid(logits),
            "pool5": pool5,
            "pooled": torch.cat(means, dim=1),
        }


def _conv2d_weight(kernel: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))  # HWIO -> OIHW


def _conv1d_weight(kernel: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(kernel[:, :, 0, :].transpose(2, 1, 0)))  # (k, in, 1, out)


def checkpoint_prefix(variant: str) -> str:
    """Where the installed ``musicnn`` package keeps ``variant``'s checkpoint (found without importing it)."""
    if variant not in VARIANTS + VGG_VARIANTS:
        known = ", ".join(VARIANTS + VGG_VARIANTS)
        raise ValueError(f"unknown musicnn variant {variant!r}; known: {known}")
    spec = importlib.util.find_spec("musicnn")
    if spec is None or not spec.submodule_search_locations:
        raise CheckpointError("musicnn", f"the musicnn package is not installed; {INSTALL_HINT}")
    # the files are named ".index" and ".data-...": the prefix is the folder itself, with its slash
    return str(Path(next(iter(spec.submodule_search_locations))) / variant) + "/"


def tag_names(variant: str) -> list[str]:
    """The 50 tags ``variant`` was trained on, in the order of its ``tags`` output (MSD: Last.fm tags of
    the Million Song Dataset; MTT: MagnaTagATune), as the installed ``musicnn`` package lists them."""
    checkpoint_prefix(variant)  # an unknown variant or a missing package fails here, with the install hint
    from musicnn import configuration  # plain lists; the package's __init__ imports nothing

    return list(configuration.MSD_LABELS if variant.startswith("MSD") else configuration.MTT_LABELS)


def maker_tag_profiles(
    tags: np.ndarray, labels: Sequence[str], names: Sequence[str], *, top: int = 5
) -> dict[str, list[tuple[str, float, float]]]:
    """The tags each maker's tracks get more than the collection's: a tag description of a fingerprint.

    Parameters
    ----------
    tags : np.ndarray [shape=(n_tracks, n_tags)]
        Each track's tag probabilities (mean over its patches).
    labels : the maker of each track
    names : the tag names, ``n_tags`` of them
    top : how many tags per maker

    Returns
    -------
    dict
        maker -> up to ``top`` ``(tag, maker's median, collection's median)``, the largest excess of the
        maker's median probability over the collection's first (only tags above it); makers sorted.
    """
    tags = np.asarray(tags, dtype=np.float64)
    if tags.ndim != 2 or len(tags) != len(labels) or tags.shape[1] != len(names):
        raise ValueError(
            f"tags of shape {tags.shape} do not fit {len(labels)} labels and {len(names)} tag names"
        )
    overall = np.median(tags, axis=0)
    makers = np.asarray(labels)
    out: dict[str, list[tuple[str, float, float]]] = {}
    for maker in sorted(set(labels)):
        median = np.median(tags[makers == maker], axis=0)
        excess = median - overall
        order = [int(i) for i in np.argsort(-excess, kind="stable")[:top] if excess[i] > 0]
        out[maker] = [(names[i], float(median[i]), float(overall[i])) for i in order]
    return out


def _copy_convolution(layer: nn.Conv1d | nn.Conv2d, weight: torch.Tensor, bias: np.ndarray) -> None:
    assert layer.bias is not None  # every convolution here is built with a bias
    layer.weight.copy_(weight)
    layer.bias.copy_(torch.from_numpy(bias))


def _copy_batch_norm(module: _BatchNorm, checkpoint: TFCheckpoint, index: int) -> None:
    """Copy TensorFlow's ``index``-th batch normalisation (in creation order) into ``module``."""
    name = "batch_normalization" + (f"_{index}" if index else "")
    for field in ("gamma", "beta", "moving_mean", "moving_variance"):
        getattr(module, field).copy_(torch.from_numpy(checkpoint.tensor(f"{name}/{field}")))


def load_weights(model: MusiCNN, checkpoint: TFCheckpoint) -> MusiCNN:
    """Copy the checkpoint's variables into ``model`` (layer names follow TensorFlow's creation order)."""
    t = checkpoint.tensor

    def conv(index: int) -> tuple[np.ndarray, np.ndarray]:
        name = "conv2d" + (f"_{index}" if index else "")
        return t(f"{name}/kernel"), t(f"{name}/bias")

    with torch.no_grad():
        _copy_batch_norm(model.bn_input, checkpoint, 0)
        front_bn, mid_bn = _layers(model.front_bn, _BatchNorm), _layers(model.mid_bn, _BatchNorm)
        front = [*_layers(model.timbral, nn.Conv2d), *_layers(model.temporal, nn.Conv2d)]
        for i, layer in enumerate(front):
            kernel, bias = conv(i)
            _copy_convolution(layer, _conv2d_weight(kernel), bias)
            _copy_batch_norm(front_bn[i], checkpoint, i + 1)
        for i, mid_layer in enumerate(_layers(model.mid, nn.Conv1d)):
            kernel, bias = conv(5 + i)
            _copy_convolution(mid_layer, _conv1d_weight(kernel), bias)
            _copy_batch_norm(mid_bn[i], checkpoint, 6 + i)
        _copy_batch_norm(model.pool_bn, checkpoint, 9)
        model.dense.weight.copy_(torch.from_numpy(t("dense/kernel").T.copy()))
        model.dense.bias.copy_(torch.from_numpy(t("dense/bias")))
        _copy_batch_norm(model.dense_bn, checkpoint, 10)
        model.output.weight.copy_(torch.from_numpy(t("dense_1/kernel").T.copy()))
        model.output.bias.copy_(torch.from_numpy(t("dense_1/bias")))
    return model.eval()


def load_vgg_weights(model: MusicVGG, checkpoint: TFCheckpoint) -> MusicVGG:
    """Copy a VGG checkpoint's variables into ``model`` (convolutions named ``1CNN`` to ``5CNN``)."""
    t = checkpoint.tensor
    with torch.no_grad():
        for index, module in enumerate([model.bn_input, *_layers(model.bns, _BatchNorm)]):
            _copy_batch_norm(module, checkpoint, index)
        for index, layer in enumerate(_layers(model.convs, nn.Conv2d), start=1):
            _copy_convolution(layer, _conv2d_weight(t(f"{index}CNN/kernel")), t(f"{index}CNN/bias"))
        model.output.weight.copy_(torch.from_numpy(t("dense/kernel").T.copy()))
        model.output.bias.copy_(torch.from_numpy(t("dense/bias")))
    return model.eval()


@lru_cache(maxsize=4)
def load_musicnn(variant: str = "MSD_musicnn", prefix: str | None = None) -> MusiCNN | MusicVGG:
    """The pretrained network ``variant`` (cached per process): a :class:`MusiCNN` or, for the ``*_vgg``
    variants, a :class:`MusicVGG`; ``prefix`` overrides the checkpoint path."""
    checkpoint = TFCheckpoint(prefix if prefix is not None else checkpoint_prefix(variant))
    if variant in VGG_VARIANTS:
        return load_vgg_weights(MusicVGG(), checkpoint)
    return load_weights(MusiCNN(), checkpoint)


def musicnn_input(y: np.ndarray) -> np.ndarray:
    """Log-mel patches ``(n_patches, 187, 96)`` float32 from mono 16 kHz audio ``(n,)``.

    Non-overlapping 3 s patches, as musicnn's ``batch_data``; audio shorter than one patch is zero-padded.
    Log compression ``log10(10000 * mel + 1)`` in float32, so loud audio never overflows.
    """
    power = spectral.power_spectrogram(np.asarray(y, dtype=np.float32), n_fft=N_FFT, hop_length=HOP)
    mel = spectral.mel_filterbank(sample_rate=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS) @ power
    rep = np.log10(10000.0 * mel.astype(np.float32) + 1.0).T  # (time, mel)
    if rep.shape[0] < PATCH_FRAMES:
        rep = np.pad(rep, ((0, PATCH_FRAMES - rep.shape[0]), (0, 0)))
    starts = range(0, rep.shape[0] - PATCH_FRAMES + 1, PATCH_FRAMES)
    return np.stack([rep[s : s + PATCH_FRAMES] for s in starts]).astype(np.float32)


def embed_patches(
    patches: np.ndarray, *, variant: str = "MSD_musicnn", batch_size: int = 32
) -> dict[str, np.ndarray]:
    """Run the network on ``(n, 187, 96)`` patches; returns each output as ``(n, d)`` float32."""
    model = load_musicnn(variant)
    outputs: dict[str, list[np.ndarray]] = {}
    with torch.inference_mode():
        for start in range(0, len(patches), batch_size):
            result = model(torch.from_numpy(patches[start : start + batch_size]))
            for key, value in result.items():
                outputs.setdefault(key, []).append(value.numpy())
    return {key: np.concatenate(value) for key, value in outputs.items()}


#: how many :func:`embed_audio` results a process keeps: every window of a track, each summarised on its
#: own (``--per-window``), for as many layers as are asked of it (a 20 s window's outputs take ~50 kB)
KEPT_PASSES = 64
#: the latest :func:`embed_audio` results of this process, oldest first
_last_pass: OrderedDict[str, dict[str, np.ndarray]] = OrderedDict()


def embed_audio(clips: Sequence[np.ndarray], *, variant: str = "MSD_musicnn") -> dict[str, np.ndarray]:
    """Every output of ``variant`` for each 3 s patch of the mono 16 kHz ``clips``, ``(n_patches, d)``
    float32 per output, patches of all clips in order.

    The latest :data:`KEPT_PASSES` results are kept, so that several layers of one network asked for the
    same audio (two extractors of one file or window) share one pass through the network; the arrays are
    read-only for that reason.
    """
    digest = hashlib.blake2b(variant.encode(), digest_size=16)
    for clip in clips:
        samples = np.ascontiguousarray(clip, dtype=np.float32)
        digest.update(repr(samples.shape).encode())
        digest.update(samples.data)
    key = digest.hexdigest()
    if key in _last_pass:
        _last_pass.move_to_end(key)
        return _last_pass[key]
    outputs = embed_patches(np.concatenate([musicnn_input(clip) for clip in clips]), variant=variant)
    for array in outputs.values():
        array.setflags(write=False)
    _last_pass[key] = outputs
    while len(_last_pass) > KEPT_PASSES:
        _last_pass.popitem(last=False)
    return outputs
