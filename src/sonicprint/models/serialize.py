"""Saving and loading trained models, safely.

A model file holds the model's name, constructor arguments, fitted arrays, label set, feature config and
the software versions that made it (as asteroid's ``serialize``). It is read with
``torch.load(weights_only=True)``: only tensors and plain containers are accepted, so loading never runs
code from the file.
"""

from __future__ import annotations

import datetime as _dt
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..config import FeatureConfig, from_dict, to_dict
from ..errors import ConfigError, ModelFormatError
from ..registry import UnknownNameError
from .base import Classifier, create_model

FORMAT = "sonicprint-model"
FORMAT_VERSION = 1


@dataclass
class LoadedModel:
    """A model ready to predict, with everything needed to compute its input from audio."""

    model: Classifier
    labels: list[str]
    feature_configs: tuple[FeatureConfig, ...]
    meta: dict[str, Any]
    #: trained on windows: a file's verdict combines its windows' (see ``models.predict_tracks``)
    per_window: bool = False
    #: ``(len(labels), dim)``: each maker's direction in the embedding space (``models.maker_centroids``);
    #: None for a model saved without them
    maker_centroids: np.ndarray | None = None


def software_versions() -> dict[str, str]:
    import sklearn
    import torch

    return {
        "sonicprint": __version__,
        "numpy": np.__version__,
        "torch": str(torch.__version__),
        "scikit-learn": str(sklearn.__version__),
        "python": platform.python_version(),
    }


def save_model(
    path: str | Path,
    model: Classifier,
    *,
    labels: Sequence[str],
    feature_configs: Sequence[FeatureConfig],
    extra: dict[str, Any] | None = None,
    per_window: bool = False,
    maker_centroids: np.ndarray | None = None,
) -> Path:
    import torch

    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_name": model.name,
        "model_args": dict(model.params),
        "state": {k: torch.from_numpy(np.array(v, order="C")) for k, v in model.state().items()},
        "labels": list(labels),
        "feature_configs": [to_dict(c) for c in feature_configs],
        "per_window": per_window,
        "versions": software_versions(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "extra": dict(extra or {}),
    }
    if maker_centroids is not None:
        payload["maker_centroids"] = centroids_tensor(maker_centroids, len(labels))
    return atomic_torch_save(payload, path)


def centroids_tensor(maker_centroids: np.ndarray, n_labels: int) -> Any:
    """The makers' centroids as a tensor for a model file, one row per label."""
    import torch

    centroids = np.asarray(maker_centroids, dtype=np.float32)
    if centroids.ndim != 2 or len(centroids) != n_labels:
        raise ValueError(f"maker centroids of shape {centroids.shape} for {n_labels} labels")
    return torch.from_numpy(np.ascontiguousarray(centroids))


def centroids_from_payload(payload: dict[str, Any]) -> np.ndarray | None:
    centroids = payload.get("maker_centroids")
    return None if centroids is None else centroids.numpy()


def atomic_torch_save(payload: dict[str, Any], path: str | Path) -> Path:
    """``torch.save`` to a temporary name, then rename: a crash never leaves half a model file."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def load_failure(path: Path, exc: Exception) -> str:
    """Why torch could not read ``path`` as weights, in our words: torch's own message advises loading
    without ``weights_only``, which would run code from an untrusted file."""
    import pickle
    import zipfile

    if not zipfile.is_zipfile(path):
        return "not a torch archive: empty, cut short, or another kind of file"
    if isinstance(exc, pickle.UnpicklingError):
        return (
            "it holds Python objects besides tensors and plain data, which Sonicprint never unpickles: "
            "made by another program, or altered"
        )
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return first[:200]


def load_model(path: str | Path) -> LoadedModel:
    """Load a model saved by :func:`save_model` (or a network saved by
    :func:`sonicprint.deep.serialize.save_network`, returned as a ``LoadedNetwork``).

    Raises
    ------
    ModelFormatError
        When the file is missing, not a Sonicprint model, damaged, or made by an incompatible version.
    """
    import torch

    path = Path(path)
    if path.is_dir():
        raise ModelFormatError(path, "a folder without a model.pt, not a model file")
    if not path.is_file():
        raise ModelFormatError(path, "model file not found")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ModelFormatError(
            path, f"not a Sonicprint model file, or damaged ({load_failure(path, exc)})"
        ) from exc
    if isinstance(payload, dict) and payload.get("format") == "sonicprint-network":
        from ..deep.serialize import network_from_payload

        return network_from_payload(path, payload)  # type: ignore[return-value]
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelFormatError(path, "not a Sonicprint model file (no 'sonicprint-model' header)")
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        made_by = payload.get("versions", {}).get("sonicprint", "an unknown version")
        raise ModelFormatError(
            path,
            f"model format {version} (made by Sonicprint {made_by}) cannot be read by Sonicprint "
            f"{__version__}, which reads format {FORMAT_VERSION}; retrain the model with this version",
        )
    try:
        model = create_model(payload["model_name"], **payload["model_args"])
        model.load_state({k: v.numpy() for k, v in payload["state"].items()})
        feature_configs = tuple(
            from_dict(FeatureConfig, c, where=f"{path}: feature_configs") for c in payload["feature_configs"]
        )
    except (UnknownNameError, ConfigError, KeyError, TypeError) as exc:
        raise ModelFormatError(path, f"incompatible model contents ({exc})") from exc
    meta = {k: payload.get(k) for k in ("model_name", "model_args", "versions", "created", "extra")}
    return LoadedModel(
        model,
        list(payload["labels"]),
        feature_configs,
        meta,
        bool(payload.get("per_window", False)),
        centroids_from_payload(payload),
    )
