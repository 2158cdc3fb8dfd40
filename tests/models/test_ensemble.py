"""Late fusion of feature sets: one model per block of columns."""

from __future__ import annotations

import numpy as np
import pytest

from sonicprint.models import create_model, fuse_probabilities


def two_views(rng: np.random.Generator, n_per: int = 15) -> tuple[np.ndarray, np.ndarray]:
    """Class 0 vs 1 shows only in the first 4 columns, class 1 vs 2 only in the last 40."""
    y = np.repeat(np.arange(3), n_per)
    first = rng.normal(size=(len(y), 4)) + 4.0 * (y == 0)[:, None]
    second = rng.normal(size=(len(y), 40)) + 2.0 * (y == 2)[:, None]
    return np.concatenate([first, second], axis=1), y


def test_each_member_sees_its_own_block_and_the_verdicts_are_fused(rng):
    x, y = two_views(rng)
    fused = create_model("late_fusion", block_sizes=[4, 40], model="lda").fit(x, y, n_classes=3)
    alone = [create_model("lda").fit(block, y, n_classes=3) for block in (x[:, :4], x[:, 4:])]
    expected = fuse_probabilities([alone[0].predict_proba(x[:, :4]), alone[1].predict_proba(x[:, 4:])])
    np.testing.assert_allclose(fused.predict_proba(x), expected)
    assert fused.embed(x).shape == (len(x), 2 + 2)  # two LDA spaces of n_classes - 1 dimensions
    assert np.mean(fused.predict_proba(x).argmax(1) == y) > 0.95


def test_no_blocks_is_one_model_of_every_column(rng):
    x, y = two_views(rng)
    single = create_model("late_fusion", model="logreg").fit(x, y, n_classes=3)
    plain = create_model("logreg").fit(x, y, n_classes=3)
    np.testing.assert_allclose(single.predict_proba(x), plain.predict_proba(x))


def test_state_round_trip_keeps_the_members_apart(rng):
    x, y = two_views(rng)
    model = create_model("late_fusion", block_sizes=[4, 40]).fit(x, y, n_classes=3)
    state = model.state()
    assert {k.split("/")[0] for k in state} == {"0", "1", "classes_seen"}
    fresh = create_model("late_fusion", **model.params)
    fresh.load_state(state)
    np.testing.assert_allclose(fresh.predict_proba(x), model.predict_proba(x))


def test_bad_blocks_and_widths_fail_clearly(rng):
    with pytest.raises(ValueError, match="block_sizes must be positive"):
        create_model("late_fusion", block_sizes=[4, 0])
    with pytest.raises(ValueError, match="cannot fuse late_fusion"):
        create_model("late_fusion", block_sizes=[4], model="late_fusion")
    x, y = two_views(rng)
    with pytest.raises(ValueError, match=r"44 columns but .* add up to 10"):
        create_model("late_fusion", block_sizes=[4, 6]).fit(x, y, n_classes=3)
