"""Grouped splits: no group (track, album, artist, game) ever sits on two sides of a split.

Stratified by label where the counts allow (scikit-learn's ``StratifiedGroupKFold``), plain grouped
otherwise. Folds are deterministic for a seed.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence

import numpy as np

from ..errors import ConfigError


def _check(labels: Sequence[str], groups: Sequence[str]) -> None:
    if len(labels) != len(groups):
        raise ValueError(f"{len(labels)} labels but {len(groups)} group values")


def kfold_splits(
    labels: Sequence[str], groups: Sequence[str], *, n_folds: int = 3, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n_folds`` (train, test) index pairs; every group lies wholly in one test fold.

    Raises
    ------
    ConfigError
        When there are fewer distinct groups than folds.
    """
    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

    _check(labels, groups)
    n_groups = len(set(groups))
    if n_groups < n_folds:
        raise ConfigError(f"{n_groups} distinct groups cannot fill {n_folds} folds; use fewer folds")
    y = np.asarray(labels)
    g = np.asarray(groups)
    index = np.arange(len(y))
    groups_per_label = Counter({lab: len(set(g[y == lab])) for lab in set(labels)})
    if min(groups_per_label.values()) >= n_folds:
        splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            folds = list(splitter.split(index, y, g))
    else:
        # Too few groups of some label to stratify: shuffle group order for a seeded, unstratified split
        rng = np.random.default_rng(seed)
        unique = np.array(sorted(set(groups)))
        rank = {grp: r for r, grp in enumerate(rng.permutation(unique))}
        permuted = np.array([rank[x] for x in g])
        folds = list(GroupKFold(n_splits=n_folds).split(index, y, permuted))
    return [(np.sort(train), np.sort(test)) for train, test in folds]


def train_val_test_split(
    labels: Sequence[str],
    groups: Sequence[str],
    *,
    test_fraction: float = 0.2,
    val_fraction: float = 0.2,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grouped, stratified-where-possible train / validation / test indices (default 60/20/20)."""
    _check(labels, groups)
    y = np.asarray(labels)
    g = np.asarray(groups)
    n_test_folds = max(2, int(round(1 / test_fraction)))
    rest, test = kfold_splits(labels, groups, n_folds=n_test_folds, seed=seed)[0]
    if val_fraction <= 0:
        return rest, np.array([], dtype=int), test
    n_val_folds = max(2, int(round((1 - test_fraction) / val_fraction)))
    inner_train, inner_val = kfold_splits(list(y[rest]), list(g[rest]), n_folds=n_val_folds, seed=seed + 1)[0]
    return np.sort(rest[inner_train]), np.sort(rest[inner_val]), np.sort(test)


def crossing_groups(groups: Sequence[str], *parts: np.ndarray) -> set[str]:
    """Groups found in more than one of ``parts`` (empty when the split is clean)."""
    seen: dict[str, int] = {}
    crossing: set[str] = set()
    g = np.asarray(groups)
    for number, part in enumerate(parts):
        for value in set(g[part].tolist()):
            if seen.setdefault(value, number) != number:
                crossing.add(value)
    return crossing
