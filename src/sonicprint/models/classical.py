"""Classical models on fixed-size features. Fitted state is plain arrays; inference is numpy only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from .base import register_model


def _flatten(features: np.ndarray) -> np.ndarray:
    return np.asarray(features, dtype=np.float64).reshape(len(features), -1)


def _standardize_fit(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-8] = 1.0
    return mean, scale


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@register_model("knn_pca")
class KnnPca:
    """The first study's method: standardize -> PCA(``n_components``) -> k-nearest neighbours.

    Probabilities are the (distance-weighted) vote shares of the ``k`` nearest training tracks.
    """

    name: ClassVar[str]

    def __init__(self, n_components: int = 12, k: int = 5, weights: str = "uniform") -> None:
        if weights not in ("uniform", "distance"):
            raise ValueError(f"weights must be 'uniform' or 'distance', got {weights!r}")
        self.params: dict[str, Any] = {"n_components": n_components, "k": k, "weights": weights}
        self._state: dict[str, np.ndarray] = {}

    def fit(self, features: np.ndarray, labels: np.ndarray, *, n_classes: int) -> KnnPca:
        x = _flatten(features)
        mean, scale = _standardize_fit(x)
        xs = (x - mean) / scale
        components = min(self.params["n_components"], xs.shape[0], xs.shape[1])
        # SVD of the centred data: n is small (tracks) and d large (24k), so this is cheap
        _, _, vt = np.linalg.svd(xs, full_matrices=False)
        basis = vt[:components]
        self._state = {
            "mean": mean,
            "scale": scale,
            "components": basis,
            "train_embedding": xs @ basis.T,
            "train_labels": np.asarray(labels, dtype=np.int64),
            "n_classes": np.array(n_classes),
        }
        return self

    def embed(self, features: np.ndarray) -> np.ndarray:
        s = self._state
        return ((_flatten(features) - s["mean"]) / s["scale"]) @ s["components"].T

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        s = self._state
        z = self.embed(features)
        train = s["train_embedding"]
        distances = np.sqrt(((z[:, None, :] - train[None, :, :]) ** 2).sum(axis=-1))
        k = min(int(self.params["k"]), len(train))
        nearest = np.argsort(distances, axis=1, kind="stable")[:, :k]
        votes = np.zeros((len(z), int(s["n_classes"])))
        for row, neighbours in enumerate(nearest):
            weight = (
                1.0 / np.maximum(distances[row, neighbours], 1e-12)
                if self.params["weights"] == "distance"
                else np.ones(k)
            )
            np.add.at(votes[row], s["train_labels"][neighbours], weight)
        return votes / votes.sum(axis=1, keepdims=True)

    def state(self) -> dict[str, np.ndarray]:
        return dict(self._state)

    def load_state(self, state: Mapping[str, np.ndarray]) -> None:
        self._state = {k: np.asarray(v) for k, v in state.items()}


class _LinearModel:
    """Shared parts of linear classifiers: standardize, then softmax(x @ coef.T + intercept).

    Subclasses provide ``_estimator(n_classes)``, a scikit-learn classifier with ``coef_`` and ``intercept_``
    (``n_classes``: how many classes the training data holds).
    """

    name: ClassVar[str]
    params: dict[str, Any]

    def __init__(self) -> None:
        self._state: dict[str, np.ndarray] = {}

    def _estimator(self, n_classes: int) -> Any:
        raise NotImplementedError

    def _projection(self, estimator: Any, n_features: int) -> np.ndarray:
        return np.eye(n_features)

    def fit(self, features: np.ndarray, labels: np.ndarray, *, n_classes: int) -> _LinearModel:
        x = _flatten(features)
        mean, scale = _standardize_fit(x)
        xs = (x - mean) / scale
        labels = np.asarray(labels, dtype=np.int64)
        present = np.unique(labels)
        coef = np.zeros((n_classes, x.shape[1]))
        intercept = np.full(n_classes, -1e3)  # classes absent from training are never predicted
        projection = np.eye(x.shape[1])
        if len(present) == 1:
            intercept[present[0]] = 0.0
        else:
            estimator = self._estimator(len(present)).fit(xs, labels)
            if len(present) == 2:  # scikit-learn keeps one weight vector for two classes
                coef[present[1]], intercept[present[1]] = estimator.coef_[0], estimator.intercept_[0]
                intercept[present[0]] = 0.0
            else:
                coef[present], intercept[present] = estimator.coef_, estimator.intercept_
            projection = self._projection(estimator, x.shape[1])
        self._state = {
            "mean": mean,
            "scale": scale,
            "coef": coef,
            "intercept": intercept,
            "projection": projection,
        }
        return self

    def embed(self, features: np.ndarray) -> np.ndarray:
        s = self._state
        return ((_flatten(features) - s["mean"]) / s["scale"]) @ s["projection"]

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        s = self._state
        standardized = (_flatten(features) - s["mean"]) / s["scale"]
        return _softmax(standardized @ s["coef"].T + s["intercept"])

    def state(self) -> dict[str, np.ndarray]:
        return dict(self._state)

    def load_state(self, state: Mapping[str, np.ndarray]) -> None:
        self._state = {k: np.asarray(v) for k, v in state.items()}


@register_model("logreg")
class LogisticRegressionModel(_LinearModel):
    """Standardize -> multinomial logistic regression (L2, ``C``), fitted with scikit-learn's lbfgs."""

    def __init__(self, C: float = 1.0, class_weight: str | None = "balanced", max_iter: int = 5000) -> None:
        super().__init__()
        self.params = {"C": C, "class_weight": class_weight, "max_iter": max_iter}

    def _estimator(self, n_classes: int) -> Any:
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(
            C=self.params["C"], class_weight=self.params["class_weight"], max_iter=self.params["max_iter"]
        )


@register_model("lda")
class ShrinkageLda(_LinearModel):
    """Standardize -> linear discriminant analysis with Ledoit-Wolf shrinkage of the shared covariance.

    Suits few tracks per maker and many correlated statistics. Its embedding is the discriminant space
    (at most ``n_classes - 1`` dimensions), where makers are as far apart as the data allows.
    ``priors``: ``"empirical"`` (each maker's share of the training data) or ``"uniform"`` (every maker
    equally likely, so a maker with many training tracks is not favoured when the audio is ambiguous).
    """

    def __init__(self, shrinkage: float | str = "auto", priors: str = "empirical") -> None:
        super().__init__()
        if not (shrinkage == "auto" or (isinstance(shrinkage, (int, float)) and 0 <= shrinkage <= 1)):
            raise ValueError(f"shrinkage must be 'auto' or in [0, 1], got {shrinkage!r}")
        if priors not in ("empirical", "uniform"):
            raise ValueError(f"priors must be 'empirical' or 'uniform', got {priors!r}")
        self.params = {"shrinkage": shrinkage, "priors": priors}

    def _estimator(self, n_classes: int) -> Any:
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

        priors = np.full(n_classes, 1 / n_classes) if self.params["priors"] == "uniform" else None
        return LinearDiscriminantAnalysis(solver="eigen", shrinkage=self.params["shrinkage"], priors=priors)

    def _projection(self, estimator: Any, n_features: int) -> np.ndarray:
        return np.asarray(estimator.scalings_[:, : estimator._max_components])
