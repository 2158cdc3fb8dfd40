"""A small trainable head on fixed-size features (embeddings, statistics): an MLP in torch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from .base import register_model
from .classical import _flatten, _standardize_fit


@register_model("mlp")
class MlpHead:
    """Standardize -> dropout -> linear(``hidden``) -> ReLU -> dropout -> linear(classes).

    Trained full-batch with AdamW and label smoothing for ``epochs`` steps, class-balanced, deterministic
    for ``seed``. Its embedding is the hidden layer.
    """

    name: ClassVar[str]

    def __init__(
        self,
        hidden: int = 128,
        dropout: float = 0.5,
        epochs: int = 300,
        lr: float = 3e-3,
        weight_decay: float = 1e-2,
        seed: int = 0,
    ) -> None:
        if hidden <= 0 or epochs <= 0 or not 0 <= dropout < 1:
            raise ValueError("hidden and epochs must be positive and dropout in [0, 1)")
        self.params: dict[str, Any] = {
            "hidden": hidden,
            "dropout": dropout,
            "epochs": epochs,
            "lr": lr,
            "weight_decay": weight_decay,
            "seed": seed,
        }
        self._state: dict[str, np.ndarray] = {}

    def _network(self, n_in: int, n_classes: int):  # type: ignore[no-untyped-def]
        from torch import nn

        p = self.params
        return nn.Sequential(
            nn.Dropout(p["dropout"]),
            nn.Linear(n_in, p["hidden"]),
            nn.ReLU(),
            nn.Dropout(p["dropout"]),
            nn.Linear(p["hidden"], n_classes),
        )

    def fit(self, features: np.ndarray, labels: np.ndarray, *, n_classes: int) -> MlpHead:
        import torch

        x = _flatten(features)
        mean, scale = _standardize_fit(x)
        xs = torch.from_numpy(((x - mean) / scale).astype(np.float32))
        y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
        counts = np.bincount(labels, minlength=n_classes).astype(np.float32)
        absent = torch.from_numpy(counts == 0)  # classes never seen are never predicted
        weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / max(1, (counts > 0).sum()), 0.0)
        generator_state = torch.random.get_rng_state()
        torch.manual_seed(self.params["seed"])
        try:
            net = self._network(x.shape[1], n_classes)
            optimiser = torch.optim.AdamW(
                net.parameters(), lr=self.params["lr"], weight_decay=self.params["weight_decay"]
            )
            loss_fn = torch.nn.CrossEntropyLoss(
                weight=torch.from_numpy(weights.astype(np.float32)), label_smoothing=0.1
            )
            net.train()
            for _ in range(self.params["epochs"]):
                optimiser.zero_grad()
                loss_fn(net(xs).masked_fill(absent, -1e9), y).backward()
                optimiser.step()
        finally:
            torch.random.set_rng_state(generator_state)
        self._state = {"mean": mean, "scale": scale, "absent": counts == 0}
        self._state.update({f"net.{k}": v.detach().numpy().copy() for k, v in net.state_dict().items()})
        return self

    def _loaded_network(self):  # type: ignore[no-untyped-def]
        import torch

        s = self._state
        net = self._network(s["mean"].shape[0], len(s["absent"]))
        net.load_state_dict(
            {k[4:]: torch.from_numpy(np.array(v)) for k, v in s.items() if k.startswith("net.")}
        )
        return net.eval()

    def _standardized(self, features: np.ndarray):  # type: ignore[no-untyped-def]
        import torch

        s = self._state
        return torch.from_numpy(((_flatten(features) - s["mean"]) / s["scale"]).astype(np.float32))

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            logits = self._loaded_network()(self._standardized(features))
            logits = logits.masked_fill(torch.from_numpy(np.asarray(self._state["absent"], dtype=bool)), -1e9)
            return torch.softmax(logits, dim=1).double().numpy()

    def embed(self, features: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            net = self._loaded_network()
            return net[2](net[1](self._standardized(features))).double().numpy()

    def state(self) -> dict[str, np.ndarray]:
        return dict(self._state)

    def load_state(self, state: Mapping[str, np.ndarray]) -> None:
        self._state = {k: np.asarray(v) for k, v in state.items()}
