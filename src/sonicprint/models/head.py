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

    Trained with AdamW and label smoothing for ``epochs`` passes over the data, class-balanced,
    deterministic for ``seed``: full-batch (one step per epoch) when ``batch_size`` is 0, else in shuffled
    mini-batches of ``batch_size``. ``input_dropout`` is the dropout on the standardized input (default:
    ``dropout``). With ``members`` above 1, that many heads are trained from seeds ``seed``,
    ``seed + 1``, ... and their log-probabilities averaged (a product of experts); with few tracks one
    head's verdict moves with its seed. Its embedding is the hidden layer (each member's, concatenated).
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
        batch_size: int = 0,
        input_dropout: float | None = None,
        members: int = 1,
    ) -> None:
        if hidden <= 0 or epochs <= 0 or not 0 <= dropout < 1:
            raise ValueError("hidden and epochs must be positive and dropout in [0, 1)")
        if batch_size < 0 or members < 1 or not (input_dropout is None or 0 <= input_dropout < 1):
            raise ValueError("batch_size must be >= 0 (0: full batch), members >= 1, input_dropout in [0, 1)")
        self.params: dict[str, Any] = {
            "hidden": hidden,
            "dropout": dropout,
            "epochs": epochs,
            "lr": lr,
            "weight_decay": weight_decay,
            "seed": seed,
            "batch_size": batch_size,
            "input_dropout": input_dropout,
            "members": members,
        }
        self._state: dict[str, np.ndarray] = {}

    def _network(self, n_in: int, n_classes: int):  # type: ignore[no-untyped-def]
        from torch import nn

        p = self.params
        input_dropout = p["dropout"] if p["input_dropout"] is None else p["input_dropout"]
        return nn.Sequential(
            nn.Dropout(input_dropout),
            nn.Linear(n_in, p["hidden"]),
            nn.ReLU(),
            nn.Dropout(p["dropout"]),
            nn.Linear(p["hidden"], n_classes),
        )

    @staticmethod
    def _prefix(member: int) -> str:
        # member 0 keeps the single head's key names, so models saved before ensembles still load
        return "net." if member == 0 else f"net{member}."

    def fit(self, features: np.ndarray, labels: np.ndarray, *, n_classes: int) -> MlpHead:
        import torch

        x = _flatten(features)
        mean, scale = _standardize_fit(x)
        xs = torch.from_numpy(((x - mean) / scale).astype(np.float32))
        y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
        counts = np.bincount(labels, minlength=n_classes).astype(np.float32)
        absent = torch.from_numpy(counts == 0)  # classes never seen are never predicted
        weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / max(1, (counts > 0).sum()), 0.0)
        loss_fn = torch.nn.CrossEntropyLoss(
            weight=torch.from_numpy(weights.astype(np.float32)), label_smoothing=0.1
        )
        self._state = {"mean": mean, "scale": scale, "absent": counts == 0}
        batch = self.params["batch_size"] or len(xs)
        generator_state = torch.random.get_rng_state()
        try:
            for member in range(self.params["members"]):
                torch.manual_seed(self.params["seed"] + member)
                order = torch.Generator().manual_seed(self.params["seed"] + member)
                net = self._network(x.shape[1], n_classes)
                optimiser = torch.optim.AdamW(
                    net.parameters(), lr=self.params["lr"], weight_decay=self.params["weight_decay"]
                )
                net.train()
                for _ in range(self.params["epochs"]):
                    rows = torch.randperm(len(xs), generator=order) if batch < len(xs) else None
                    for start in range(0, len(xs), batch):
                        pick = slice(None) if rows is None else rows[start : start + batch]
                        optimiser.zero_grad()
                        loss_fn(net(xs[pick]).masked_fill(absent, -1e9), y[pick]).backward()
                        optimiser.step()
                prefix = self._prefix(member)
                self._state.update(
                    {prefix + k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
                )
        finally:
            torch.random.set_rng_state(generator_state)
        return self

    def _loaded_networks(self):  # type: ignore[no-untyped-def]
        import torch

        s = self._state
        nets = []
        for member in range(self.params["members"]):
            prefix = self._prefix(member)
            net = self._network(s["mean"].shape[0], len(s["absent"]))
            net.load_state_dict(
                {
                    k[len(prefix) :]: torch.from_numpy(np.array(v))
                    for k, v in s.items()
                    if k.startswith(prefix)
                }
            )
            nets.append(net.eval())
        return nets

    def _standardized(self, features: np.ndarray):  # type: ignore[no-untyped-def]
        import torch

        s = self._state
        return torch.from_numpy(((_flatten(features) - s["mean"]) / s["scale"]).astype(np.float32))

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        import torch

        absent = torch.from_numpy(np.asarray(self._state["absent"], dtype=bool))
        with torch.inference_mode():
            xs = self._standardized(features)
            log_probs = torch.stack(
                [
                    torch.log_softmax(net(xs).masked_fill(absent, -1e9).double(), dim=1)
                    for net in self._loaded_networks()
                ]
            ).mean(dim=0)
            return torch.softmax(log_probs, dim=1).numpy()

    def embed(self, features: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            xs = self._standardized(features)
            return torch.cat([net[2](net[1](xs)) for net in self._loaded_networks()], dim=1).double().numpy()

    def state(self) -> dict[str, np.ndarray]:
        return dict(self._state)

    def load_state(self, state: Mapping[str, np.ndarray]) -> None:
        self._state = {k: np.asarray(v) for k, v in state.items()}
