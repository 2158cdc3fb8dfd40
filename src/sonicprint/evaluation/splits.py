"""Grouped splits: no group (track, album, artist, game) ever sits on two sides of a split.

Stratified by label where the counts allow (scikit-learn's ``StratifiedGroupKFold``), plain grouped
otherwise. Folds are deterministic for a seed.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping, Sequence

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


def training_share(
    labels: Sequence[str], train: np.ndarray, share: float, *, rng: np.random.Generator, least: int = 2
) -> np.ndarray:
    """A share of the training indices ``train``, taken per label, for a learning curve.

    Parameters
    ----------
    labels : the label of every track (indexed by ``train``)
    train : np.ndarray [shape=(n_train,)]
        Indices of the training tracks.
    share : float
        The share of each label's training tracks to keep, in (0, 1]; at least ``least`` of a label are
        kept (all of them when it has fewer).
    rng : np.random.Generator
        Orders each label's tracks. With a generator seeded alike, the tracks kept at a smaller share are
        among those kept at every larger one (nested shares), so a curve compares more data, not other data.

    Returns
    -------
    np.ndarray [shape=(n_kept,)]
        The kept indices, sorted: a subset of ``train``, so a split stays as disjoint as it was.
    """
    if not 0.0 < share <= 1.0:
        raise ValueError(f"a training share must be in (0, 1], got {share}")
    train = np.asarray(train, dtype=int)
    of_train = np.asarray(labels, dtype=object)[train]
    kept = []
    for label in sorted(set(of_train.tolist())):
        own = rng.permutation(train[of_train == label])
        kept.append(own[: max(least, round(share * len(own)))])
    return np.sort(np.concatenate(kept)) if kept else train[:0]


def label_seen_in_training(labels: Sequence[str], train: np.ndarray, evaluated: np.ndarray) -> np.ndarray:
    """Whether each evaluated track's label has at least one track on the training side, shape
    ``(len(evaluated),)``.

    A grouped split puts all tracks of a label that share one group (an artist with one album under
    ``--group album``) on the evaluated side together; no model trained on that split can name them, so
    they are not scored.
    """
    seen = {labels[i] for i in np.asarray(train, dtype=int)}
    return np.array([labels[i] in seen for i in np.asarray(evaluated, dtype=int)], dtype=bool)


def require_scored_tracks(seen: np.ndarray, grouping: str) -> None:
    """Fail before any training when no evaluated track can be scored (see :func:`label_seen_in_training`).

    Raises
    ------
    ConfigError
        When ``seen`` (one flag per track) is all False.
    """
    if not np.asarray(seen, dtype=bool).any():
        raise ConfigError(
            f"{grouping}-disjoint splits leave no evaluated track with its label on the training side: "
            f"each label's tracks share one {grouping}, so no model could name them. Group by a column "
            f"whose values a label spans several of, or keep labels with tracks in 2+ {grouping}s"
        )


def not_scored_note(not_scored: Mapping[str, int], grouping: str) -> str:
    """How a report says which tracks were left out of the scores (``not_scored``: tracks per label)."""
    n_labels = len(not_scored)
    return (
        f"{sum(not_scored.values())} tracks of {n_labels} label{'s' if n_labels != 1 else ''} not scored: "
        f"every track of their label shares one {grouping}, so none was on the training side"
    )


def require_background_tracks(labels: Sequence[str], background: str) -> None:
    """Fail before any training when a background label is asked for but no usable track carries it.

    Raises
    ------
    ConfigError
        When ``background`` is not empty and not among ``labels``.
    """
    if background and background not in labels:
        raise ConfigError(
            f"the background label {background!r} has no usable track; labels found: "
            f"{', '.join(sorted(set(labels)))}"
        )


def evaluated_mask(part_of: Sequence[str] | np.ndarray, *, holdout: bool) -> np.ndarray:
    """Per track: whether its verdict counts. k-fold: every track, each predicted once; holdout: the test
    part (the validation part is reported beside it, not counted)."""
    return np.array([p == "test" if holdout else p != "" for p in part_of], dtype=bool)


def split_description(
    *, method: str, folds: int, test_fraction: float, val_fraction: float, grouping: str
) -> str:
    """How tracks were split, as a report says it (``grouping``: what no split crosses)."""
    if method == "holdout":
        return (
            f"holdout {1 - test_fraction - val_fraction:.0%}/{val_fraction:.0%}/{test_fraction:.0%} "
            f"train/val/test, {grouping}-disjoint; metrics on the test part"
        )
    return f"{folds}-fold cross-validation, {grouping}-disjoint"
