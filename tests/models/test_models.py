"""Contract tests over every registered model, and the registry's errors."""

from __future__ import annotations

import numpy as np
import pytest

from sonicprint.config import FeatureConfig
from sonicprint.models import MODELS, create_model, load_model, save_model
from sonicprint.registry import UnknownNameError
from tests.models.conftest import blobs

# every registered model with its defaults, plus the variants a constructor argument selects
VARIANTS = [(name, {}) for name in MODELS.names()] + [
    ("lda", {"priors": "uniform"}),
    ("mlp", {"batch_size": 8, "input_dropout": 0.2, "members": 2, "epochs": 60}),
    ("late_fusion", {"block_sizes": [10, 20]}),
    ("late_fusion", {"block_sizes": [5, 5, 20], "model": "logreg", "model_params": {"C": 0.5}}),
]


@pytest.mark.parametrize(("name", "params"), VARIANTS)
def test_model_contract(name, params, rng, tmp_path):
    x, y = blobs(rng)
    model = create_model(name, **params).fit(x, y, n_classes=4)  # one class absent from training
    proba = model.predict_proba(x)
    assert proba.shape == (len(x), 4)
    assert np.all(np.isfinite(proba)) and np.allclose(proba.sum(axis=1), 1.0)
    assert np.mean(proba.argmax(1) == y) > 0.9  # separable blobs are learned
    assert np.all(proba[:, 3] < 1e-6)  # the class never seen is never predicted
    embedding = model.embed(x)
    assert embedding.ndim == 2 and len(embedding) == len(x)
    again = create_model(name, **params).fit(x, y, n_classes=4)
    np.testing.assert_allclose(again.predict_proba(x), proba)  # deterministic
    path = save_model(
        tmp_path / "m.pt",
        model,
        labels=["a", "b", "c", "d"],
        feature_configs=[FeatureConfig(), FeatureConfig(extractor="mfcc_stats")],
    )
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.model.predict_proba(x), proba)
    assert loaded.labels == ["a", "b", "c", "d"]
    assert loaded.feature_configs == (FeatureConfig(), FeatureConfig(extractor="mfcc_stats"))
    assert loaded.meta["model_name"] == name and loaded.model.params == model.params
    assert {"sonicprint", "numpy", "torch"} <= set(loaded.meta["versions"])


@pytest.mark.parametrize("name", MODELS.names())
def test_model_handles_two_classes_and_image_shaped_features(name, rng):
    x, y = blobs(rng, n_classes=2, dim=24)
    x = x.reshape(len(x), 4, 6)
    proba = create_model(name).fit(x, y, n_classes=2).predict_proba(x)
    assert proba.shape == (len(x), 2) and np.mean(proba.argmax(1) == y) > 0.9


def test_unknown_model_lists_known_ones():
    with pytest.raises(UnknownNameError, match="knn_pca"):
        create_model("resnet9000")
