"""The MLP head: seed ensembles, mini-batches, and models saved before either existed."""

from __future__ import annotations

import numpy as np
import pytest

from sonicprint.models import create_model
from tests.models.conftest import blobs

SMALL = {"hidden": 16, "epochs": 40, "batch_size": 8}


def test_members_average_the_log_probabilities_of_heads_with_consecutive_seeds(rng):
    x, y = blobs(rng)
    ensemble = create_model("mlp", members=3, seed=5, **SMALL).fit(x, y, n_classes=3)
    singles = [create_model("mlp", seed=5 + m, **SMALL).fit(x, y, n_classes=3) for m in range(3)]
    log_mean = np.mean([np.log(h.predict_proba(x)) for h in singles], axis=0)
    expected = np.exp(log_mean) / np.exp(log_mean).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ensemble.predict_proba(x), expected, rtol=1e-5, atol=1e-9)
    assert not np.allclose(singles[0].predict_proba(x), singles[1].predict_proba(x))  # seeds do differ
    assert ensemble.embed(x).shape == (len(x), 3 * SMALL["hidden"])


def test_mini_batches_train_another_head_than_the_full_batch(rng):
    x, y = blobs(rng)
    full = create_model("mlp", hidden=16, epochs=40).fit(x, y, n_classes=3)
    mini = create_model("mlp", **SMALL).fit(x, y, n_classes=3)
    assert not np.allclose(full.predict_proba(x), mini.predict_proba(x))
    assert np.mean(mini.predict_proba(x).argmax(1) == y) > 0.9


def test_a_head_saved_with_the_earlier_arguments_loads_and_predicts_the_same(rng):
    x, y = blobs(rng)
    head = create_model("mlp", hidden=16, epochs=40).fit(x, y, n_classes=3)
    earlier_args = {k: head.params[k] for k in ("hidden", "dropout", "epochs", "lr", "weight_decay", "seed")}
    loaded = create_model("mlp", **earlier_args)
    loaded.load_state(head.state())
    assert set(head.state()) == {"mean", "scale", "absent"} | {
        k for k in head.state() if k.startswith("net.")
    }
    np.testing.assert_allclose(loaded.predict_proba(x), head.predict_proba(x))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"members": 0}, "members"),
        ({"batch_size": -1}, "batch_size"),
        ({"input_dropout": 1.0}, "input_dropout"),
    ],
)
def test_bad_arguments_are_refused(params, message):
    with pytest.raises(ValueError, match=message):
        create_model("mlp", **params)
