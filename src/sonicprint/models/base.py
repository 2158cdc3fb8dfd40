"""The classifier interface and the model registry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from ..registry import Registry


@runtime_checkable
class Classifier(Protocol):
    """A trainable classifier on fixed-size feature arrays.

    ``fit`` takes features ``(n, ...)`` and integer labels ``(n,)`` in ``[0, n_classes)``;
    ``predict_proba`` returns ``(n, n_classes)``; ``embed`` returns the model's own space ``(n, d)`` (used for
    maps and similarity search). ``params`` are the constructor arguments; ``state`` the fitted arrays.
    """

    name: ClassVar[str]
    params: dict[str, Any]

    def fit(self, features: np.ndarray, labels: np.ndarray, *, n_classes: int) -> Classifier: ...

    def predict_proba(self, features: np.ndarray) -> np.ndarray: ...

    def embed(self, features: np.ndarray) -> np.ndarray: ...

    def state(self) -> dict[str, np.ndarray]: ...

    def load_state(self, state: Mapping[str, np.ndarray]) -> None: ...


MODELS: Registry[Callable[..., Classifier]] = Registry("model")


def register_model(name: str) -> Callable[[type], type]:
    def decorate(cls: type) -> type:
        cls.name = name  # type: ignore[attr-defined]
        MODELS.add(name, cls)
        return cls

    return decorate


def create_model(name: str, **params: Any) -> Classifier:
    """A new, unfitted model ``name`` with constructor arguments ``params`` (errors as
    :meth:`sonicprint.registry.Registry.create`)."""
    return MODELS.create(name, params)  # type: ignore[return-value]


def list_models() -> list[str]:
    return MODELS.names()
