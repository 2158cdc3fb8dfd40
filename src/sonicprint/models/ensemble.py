"""Late fusion of feature sets: one model per feature set, their probabilities fused.

Concatenating feature sets of very different size into one model lets the largest set dominate (a
1,506-d embedding next to a 169-d fingerprint) and makes one shared covariance cover all of them. Training
a model on each set and fusing the verdicts keeps each set's evidence in its own model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from .base import Classifier, create_model, register_model
from .fusion import fuse_probabilities


@register_model("late_fusion")
class LateFusion:
    """One ``model`` (with ``model_params``) per block of feature columns, fused by the equal-weight
    geometric mean of their probabilities (:func:`~sonicprint.models.fuse_probabilities`).

    ``block_sizes`` are the widths of the feature sets, in the order they are concatenated; the pipeline
    fills them in (``ModelConfig.fusion = "late"``). Empty: one block of every column (a single model).
    The embedding is the members' embeddings side by side.
    """

    name: ClassVar[str]

    def __init__(
        self,
        block_sizes: Sequence[int] = (),
        model: str = "lda",
        model_params: Mapping[str, Any] | None = None,
    ) -> None:
        sizes = [int(b) for b in block_sizes]
        if any(b <= 0 for b in sizes):
            raise ValueError(f"block_sizes must be positive feature widths, one per feature set; got {sizes}")
        if model == "late_fusion":
            raise ValueError("late_fusion cannot fuse late_fusion models")
        self.params: dict[str, Any] = {
            "block_sizes": sizes,
            "model": model,
            "model_params": dict(model_params or {}),
        }
        self._seen = np.zeros(0, dtype=bool)
        self.members: list[Classifier] = [
            create_model(model, **self.params["model_params"]) for _ in range(max(1, len(sizes)))
        ]

    def _blocks(self, features: np.ndarray) -> list[np.ndarray]:
        x = np.asarray(features).reshape(len(features), -1)
        sizes = self.params["block_sizes"]
        if not sizes:
            return [x]
        if x.shape[1] != sum(sizes):
            raise ValueError(
                f"features have {x.shape[1]} columns but the feature sets' widths {sizes} "
                f"add up to {sum(sizes)}"
            )
        return np.split(x, np.cumsum(sizes)[:-1], axis=1)

    def fit(self, features: np.ndarray, labels: np.ndarray, *, n_classes: int) -> LateFusion:
        for member, block in zip(self.members, self._blocks(features)):
            member.fit(block, labels, n_classes=n_classes)
        self._seen = np.bincount(np.asarray(labels, dtype=np.int64), minlength=n_classes) > 0
        return self

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        blocks = self._blocks(features)
        fused = fuse_probabilities([m.predict_proba(b) for m, b in zip(self.members, blocks)])
        # fusion floors each probability so no member can veto a class; a class no member was trained on
        # must still never be predicted
        fused[:, ~self._seen] = 0.0
        return fused / fused.sum(axis=1, keepdims=True)

    def embed(self, features: np.ndarray) -> np.ndarray:
        blocks = self._blocks(features)
        return np.concatenate([m.embed(b) for m, b in zip(self.members, blocks)], axis=1)

    def state(self) -> dict[str, np.ndarray]:
        members = {
            f"{i}/{key}": value for i, m in enumerate(self.members) for key, value in m.state().items()
        }
        return {"classes_seen": self._seen.copy(), **members}

    def load_state(self, state: Mapping[str, np.ndarray]) -> None:
        self._seen = np.asarray(state["classes_seen"], dtype=bool)
        for i, member in enumerate(self.members):
            prefix = f"{i}/"
            member.load_state({k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)})
