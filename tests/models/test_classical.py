"""The classical models: KNN on PCA, shrinkage LDA, and their arguments."""

from __future__ import annotations

import numpy as np
import pytest

from sonicprint.models import create_model
from tests.models.conftest import blobs


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
