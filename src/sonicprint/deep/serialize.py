"""Saving and loading trained spectrogram networks; read with ``torch.load(weights_only=True)``."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import __version__
from ..config import FeatureConfig, TrainConfig, from_dict, to_dict
from ..errors import ModelFormatError
from ..models.serialize import (
    atomic_torch_save,
    centroids_from_payload,
    centroids_tensor,
    software_versions,
)
from .networks import create_network
from .train import TrainedNetwork

FORMAT = "sonicprint-network"
FORMAT_VERSION = 1


@dataclass
class LoadedNetwork:
    trained: TrainedNetwork
    labels: list[str]
    audio: FeatureConfig
    meta: dict[str, Any]
    #: each maker's direction in the penultimate-layer space (``models.maker_centroids``), or None
    maker_centroids: np.ndarray | None = None


def save_network(
    path: str | Path,
    trained: TrainedNetwork,
    *,
    labels: Sequence[str],
    audio: FeatureConfig,
    maker_centroids: np.ndarray | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "train_config": to_dict(trained.config),
        "audio_config": to_dict(audio),
        "labels": list(labels),
        "sample_rate": trained.sample_rate,
        "norm_mean": torch.from_numpy(trained.norm_mean.astype(np.float32)),
        "norm_std": torch.from_numpy(trained.norm_std.astype(np.float32)),
        "state": {k: v.detach().cpu() for k, v in trained.network.state_dict().items()},
        "history": trained.history,
        "versions": software_versions(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "extra": dict(extra or {}),
    }
    if maker_centroids is not None:
        payload["maker_centroids"] = centroids_tensor(maker_centroids, len(labels))
    return atomic_torch_save(payload, path)


def network_from_payload(path: Path, payload: dict[str, Any]) -> LoadedNetwork:
    if payload.get("format_version") != FORMAT_VERSION:
        made_by = (payload.get("versions") or {}).get("sonicprint", "an unknown version")
        raise ModelFormatError(
            path,
            f"network format {payload.get('format_version')} (made by Sonicprint {made_by}) cannot be read "
            f"by Sonicprint {__version__}, which reads format {FORMAT_VERSION}; retrain the network",
        )
    try:
        config = from_dict(TrainConfig, payload["train_config"], where=f"{path}: train_config")
        audio = from_dict(FeatureConfig, payload["audio_config"], where=f"{path}: audio_config")
        labels = list(payload["labels"])
        net = create_network(
            config.network, n_mels=config.n_mels, n_classes=len(labels), **dict(config.network_params)
        )
        net.load_state_dict(payload["state"])
    except Exception as exc:
        raise ModelFormatError(path, f"incompatible network contents ({exc})") from exc
    trained = TrainedNetwork(
        net.eval(),
        config,
        len(labels),
        int(payload["sample_rate"]),
        payload["norm_mean"].numpy(),
        payload["norm_std"].numpy(),
        list(payload["history"]),
    )
    return LoadedNetwork(
        trained,
        labels,
        audio,
        {
            "versions": payload.get("versions"),
            "created": payload.get("created"),
            "extra": payload.get("extra") or {},
        },
        centroids_from_payload(payload),
    )
