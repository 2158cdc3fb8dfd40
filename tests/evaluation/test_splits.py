from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sonicprint.errors import ConfigError
from sonicprint.evaluation import (
    crossing_groups,
    evaluated_mask,
    kfold_splits,
    label_seen_in_training,
    split_description,
    train_val_test_split,
    training_share,
)


def _collection(rng, n_labels=4, groups_per_label=5, tracks_per_group=3):
    labels, groups = [], []
    for lab in range(n_labels):
        for g in range(groups_per_label):
            for _ in range(int(rng.integers(1, tracks_per_group + 1))):
                labels.append(f"L{lab}")
                groups.append(f"L{lab}-album{g}")
    return labels, groups


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    folds=st.integers(2, 5),
    n_labels=st.integers(2, 5),
    groups_per_label=st.integers(1, 7),
)
def test_no_group_crosses_a_fold_and_every_item_is_tested_once(seed, folds, n_labels, groups_per_label):
    rng = np.random.default_rng(seed)
    labels, groups = _collection(rng, n_labels, groups_per_label)
    if len(set(groups)) < folds:
        with pytest.raises(ConfigError, match="distinct groups"):
            kfold_splits(labels, groups, n_folds=folds, seed=seed)
        return
    splits = kfold_splits(labels, groups, n_folds=folds, seed=seed)
    assert len(splits) == folds
    tested = np.concatenate([test for _, test in splits])
    assert sorted(tested.tolist()) == list(range(len(labels)))
    for train, test in splits:
        assert not crossing_groups(groups, train, test)
        assert len(set(train) | set(test)) == len(labels)


def test_folds_are_stratified_when_counts_allow(rng):
    labels, groups = _collection(rng, n_labels=3, groups_per_label=10, tracks_per_group=1)
    for _, test in kfold_splits(labels, groups, n_folds=5, seed=0):
        assert set(Counter(np.array(labels)[test]).values()) == {2}


def test_splits_are_deterministic_for_a_seed(rng):
    labels, groups = _collection(rng)
    a = kfold_splits(labels, groups, n_folds=3, seed=7)
    b = kfold_splits(labels, groups, n_folds=3, seed=7)
    c = kfold_splits(labels, groups, n_folds=3, seed=8)
    assert all(np.array_equal(x[1], y[1]) for x, y in zip(a, b))
    assert not all(np.array_equal(x[1], y[1]) for x, y in zip(a, c))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 1000))
def test_train_val_test_is_grouped_and_near_60_20_20(seed):
    rng = np.random.default_rng(seed)
    labels, groups = _collection(rng, n_labels=4, groups_per_label=10, tracks_per_group=1)
    train, val, test = train_val_test_split(labels, groups, seed=seed)
    assert not crossing_groups(groups, train, val, test)
    assert len(train) + len(val) + len(test) == len(labels)
    assert len(test) == pytest.approx(0.2 * len(labels), abs=3)
    assert len(val) == pytest.approx(0.2 * len(labels), abs=3)


def test_crossing_groups_detects_a_leak():
    groups = ["a", "a", "b", "c"]
    assert crossing_groups(groups, np.array([0, 2]), np.array([1, 3])) == {"a"}
    assert crossing_groups(groups, np.array([0, 1]), np.array([2, 3])) == set()


def test_a_label_held_out_with_its_only_album_is_marked_unseen():
    # artist A has two albums, B one: album-disjoint folds can test A but never B
    labels = ["A", "A", "A", "A", "B", "B", "C", "C", "C", "C"]
    albums = ["a1", "a1", "a2", "a2", "b1", "b1", "c1", "c1", "c2", "c2"]
    unseen_counts = Counter()
    for train, test in kfold_splits(labels, albums, n_folds=2, seed=3):
        seen = label_seen_in_training(labels, train, test)
        assert seen.shape == test.shape and seen.dtype == bool
        for i, ok in zip(test, seen):
            assert ok == (labels[i] in {labels[j] for j in train})
            unseen_counts[labels[i]] += not ok
    assert unseen_counts["B"] == 2  # both tracks of the one-album artist, in whichever fold tests them
    assert label_seen_in_training(labels, np.array([], dtype=int), np.arange(3)).tolist() == [False] * 3


def test_which_tracks_count_and_how_the_split_is_described():
    parts = ["val", "test", "", "test"]
    assert evaluated_mask(parts, holdout=True).tolist() == [False, True, False, True]
    assert evaluated_mask(["0", "1", "", "1"], holdout=False).tolist() == [True, True, False, True]
    split = {"folds": 5, "test_fraction": 0.2, "val_fraction": 0.2, "grouping": "album"}
    assert split_description(method="holdout", **split) == (
        "holdout 60%/20%/20% train/val/test, album-disjoint; metrics on the test part"
    )
    assert split_description(method="kfold", **split) == "5-fold cross-validation, album-disjoint"


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), shares=st.lists(st.floats(0.05, 1.0), min_size=2, max_size=4))
def test_training_shares_are_nested_per_label_subsets_of_the_training_side(seed, shares):
    rng = np.random.default_rng(seed)
    labels, groups = _collection(rng)
    train, _ = kfold_splits(labels, groups, n_folds=3, seed=seed)[0]
    kept = [training_share(labels, train, s, rng=np.random.default_rng([seed, 0])) for s in sorted(shares)]
    per_label_train = Counter(labels[i] for i in train)
    for smaller, larger in zip(kept, kept[1:]):
        assert set(smaller) <= set(larger)  # more data, not other data
    for share, indices in zip(sorted(shares), kept):
        assert set(indices) <= set(train) and len(set(indices)) == len(indices)
        per_label = Counter(labels[i] for i in indices)
        assert set(per_label) == set(per_label_train)  # no label drops out of training
        for label, n in per_label_train.items():
            assert per_label[label] == min(n, max(2, round(share * n)))


def test_the_whole_share_keeps_every_training_track_and_a_share_outside_is_refused():
    labels = ["a", "a", "b", "b", "b"]
    train = np.array([4, 0, 2, 1])
    assert training_share(labels, train, 1.0, rng=np.random.default_rng(0)).tolist() == [0, 1, 2, 4]
    with pytest.raises(ValueError, match=r"a training share must be in \(0, 1\], got 1.5"):
        training_share(labels, train, 1.5, rng=np.random.default_rng(0))
