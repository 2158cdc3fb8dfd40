"""Contract tests over every registered model, and the safety of the model file format."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sonicprint.config import FeatureConfig
from sonicprint.errors import ModelFormatError
from sonicprint.models import MODELS, create_model, load_model, save_model
from sonicprint.models import serialize as serialize_module
from sonicprint.registry import UnknownNameError


def blobs(rng, n_per=12, n_classes=3, dim=30):
    centres = rng.normal(0, 3, size=(n_classes, dim))
    x = np.concatenate([c + rng.normal(0, 1, size=(n_per, dim)) for c in centres])
    y = np.repeat(np.arange(n_classes), n_per)
    return x.astype(np.float32), y


# every registered model with its defaults, plus the variants a constructor argument selects
VARIANTS = [(name, {}) for name in MODELS.names()] + [
    ("lda", {"priors": "uniform"}),
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


def test_knn_pca_keeps_twelve_components_by_default(rng):
    x, y = blobs(rng, dim=50)
    model = create_model("knn_pca").fit(x, y, n_classes=3)
    assert model.embed(x).shape == (len(x), 12)


def test_lda_uniform_priors_do_not_favour_the_bigger_maker(rng):
    big = rng.normal(0.0, 1.0, size=(40, 2))
    small = rng.normal(0.0, 1.0, size=(5, 2)) + np.array([2.0, 0.0])
    x, y = np.concatenate([big, small]), np.repeat([0, 1], [40, 5])
    m0, m1 = big.mean(0), small.mean(0)
    midpoint, past_it = (m0 + m1) / 2, m0 + 0.55 * (m1 - m0)
    uniform = create_model("lda", priors="uniform").fit(x, y, n_classes=2)
    empirical = create_model("lda").fit(x, y, n_classes=2)
    # two makers, shared covariance: with equal priors the boundary passes through the midpoint of the means
    np.testing.assert_allclose(uniform.predict_proba(midpoint[None]), [[0.5, 0.5]], atol=1e-6)
    assert uniform.predict_proba(past_it[None])[0, 1] > 0.5
    assert empirical.predict_proba(past_it[None])[0, 0] > 0.5  # 40 to 5 tips it to the bigger maker


def test_unknown_model_lists_known_ones():
    with pytest.raises(UnknownNameError, match="knn_pca"):
        create_model("resnet9000")


def test_bad_model_arguments():
    with pytest.raises(ValueError, match="weights"):
        create_model("knn_pca", weights="cosine")
    with pytest.raises(ValueError, match="shrinkage"):
        create_model("lda", shrinkage=2.0)
    with pytest.raises(ValueError, match="priors must be 'empirical' or 'uniform', got 'flat'"):
        create_model("lda", priors="flat")
    with pytest.raises(
        ValueError, match="model 'lda' takes no parameter 'shrinkag'; it takes: shrinkage, priors"
    ):
        create_model("lda", shrinkag=0.1)
    with pytest.raises(ValueError, match="model 'logreg' takes no parameter 'C '"):
        create_model("late_fusion", block_sizes=[2, 2], model="logreg", model_params={"C ": 1.0})


def _saved(tmp_path, rng):
    x, y = blobs(rng)
    model = create_model("logreg").fit(x, y, n_classes=3)
    return save_model(
        tmp_path / "m.pt",
        model,
        labels=["a", "b", "c"],
        feature_configs=[FeatureConfig(), FeatureConfig(extractor="mfcc_stats")],
    )


def test_missing_and_non_model_files(tmp_path):
    with pytest.raises(ModelFormatError, match="model file not found"):
        load_model(tmp_path / "none.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model at all")
    with pytest.raises(ModelFormatError, match=r"junk\.pt: not a Sonicprint model file"):
        load_model(junk)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(ModelFormatError, match="no 'sonicprint-model' header"):
        load_model(other)


def test_incompatible_version_fails_clearly(tmp_path, rng, monkeypatch):
    path = _saved(tmp_path, rng)
    payload = torch.load(path, weights_only=True)
    payload["format_version"] = 99
    payload["versions"]["sonicprint"] = "9.0.0"
    torch.save(payload, path)
    with pytest.raises(
        ModelFormatError, match=r"model format 99 \(made by Sonicprint 9.0.0\) cannot be read"
    ):
        load_model(path)


class Payload:
    """A class that would run code if the file were unpickled without weights_only."""

    ran = False

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Payload._mark, ())

    @staticmethod
    def _mark() -> None:
        Payload.ran = True


def test_loading_never_runs_code_from_the_file(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": serialize_module.FORMAT, "format_version": 1, "x": Payload()}, path)
    with pytest.raises(ModelFormatError, match="not a Sonicprint model file, or damaged"):
        load_model(path)
    assert Payload.ran is False
