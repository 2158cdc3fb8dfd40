"""Finished parts of cross-validations on disk: what is kept, what matches, and resuming from it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sonicprint.config import ExperimentConfig, ModelConfig, SplitConfig
from sonicprint.experiment import cross_validate_windows
from sonicprint.part_store import PartStore, table_fingerprint
from sonicprint.pipeline import FeatureTable


def _table(*, per_window: bool = False, seed: int = 0) -> FeatureTable:
    """Three makers of eight tracks each, two informative dimensions and three of noise (per track, or
    per each of three windows)."""
    rng = np.random.default_rng(seed)
    names = [f"maker{k}" for k in range(3) for _ in range(8)]
    centres = np.repeat(3.0 * np.eye(3)[:, :2], 8, axis=0)
    shape = (len(names), 3, 5) if per_window else (len(names), 5)
    features = rng.normal(size=shape)
    features[..., :2] += centres[:, None, :] if per_window else centres
    hashes = [f"h{i:02d}" for i in range(len(names))]
    return FeatureTable(list(hashes), names, [{} for _ in names], hashes, features, per_window=per_window)


CONFIG = ExperimentConfig(model=ModelConfig("lda"), split=SplitConfig(folds=3))


def test_saved_arrays_come_back_and_nothing_half_written_remains(tmp_path):
    store = PartStore(tmp_path / "parts")
    arrays = {"test": np.array([3, 1, 4]), "probabilities": np.random.default_rng(0).random((3, 2))}
    assert store.load("k") is None and len(store) == 0
    store.save("k", arrays)
    loaded = store.load("k")
    assert loaded is not None and loaded.keys() == arrays.keys()
    for name, values in arrays.items():
        np.testing.assert_array_equal(loaded[name], values)
        assert loaded[name].dtype == values.dtype
    assert len(store) == 1 and [p.name for p in (tmp_path / "parts").iterdir()] == ["k.npz"]
    assert store.saved == {"k"} and store.reused == set()  # its own part: not from an earlier run
    later = PartStore(tmp_path / "parts")
    assert later.load("k") is not None and later.load("k") is not None
    assert later.reused == {"k"} and later.saved == set()


@pytest.mark.parametrize("damage", [b"", b"not a zip file", b"PK\x03\x04 truncated"])
def test_a_damaged_part_reads_as_missing(tmp_path, damage):
    store = PartStore(tmp_path)
    store.save("k", {"test": np.arange(3)})
    (tmp_path / "k.npz").write_bytes(damage)
    assert store.load("k") is None


def test_a_store_without_a_folder_keeps_nothing(tmp_path):
    store = PartStore(None)
    store.save("k", {"test": np.arange(3)})
    assert store.load("k") is None and len(store) == 0


def test_keys_differ_with_any_part_of_the_identity_and_the_version(monkeypatch):
    key = PartStore.key(model={"name": "lda"}, part=0)
    assert key == PartStore.key(part=0, model={"name": "lda"})
    assert key != PartStore.key(model={"name": "lda"}, part=1)
    assert key != PartStore.key(model={"name": "logreg"}, part=0)
    monkeypatch.setattr("sonicprint.part_store.__version__", "99.0")
    assert key != PartStore.key(model={"name": "lda"}, part=0)


def test_a_tables_fingerprint_follows_its_values_labels_and_groups():
    table = _table()
    assert table_fingerprint(table) == table_fingerprint(_table())
    changed = _table()
    changed.features[5, 2] += 1e-9
    assert table_fingerprint(changed) != table_fingerprint(table)
    assert table_fingerprint(
        replace(table, labels=[*table.labels[1:], table.labels[0]])
    ) != table_fingerprint(table)
    regrouped = replace(table, groups=[{"album": "a"}, *table.groups[1:]])
    assert table_fingerprint(regrouped) != table_fingerprint(table)
    assert table_fingerprint(table.take(range(10))) != table_fingerprint(table)


@pytest.mark.parametrize("per_window", [False, True])
def test_a_stored_cross_validation_equals_one_computed_afresh(tmp_path, fits, per_window):
    table = _table(per_window=per_window)
    fresh = cross_validate_windows(table, CONFIG)
    store = PartStore(tmp_path)
    first = cross_validate_windows(table, CONFIG, store=store)
    assert len(fits) == 6 and len(store) == 3
    fits.clear()
    again = cross_validate_windows(table, CONFIG, store=store)
    assert fits == []  # every part read back, none trained
    for cv in (first, again):
        np.testing.assert_array_equal(cv.probabilities, fresh.probabilities)
        if per_window:
            np.testing.assert_array_equal(cv.window_probabilities, fresh.window_probabilities)
        else:
            assert cv.window_probabilities is None
        np.testing.assert_array_equal(cv.part_of, fresh.part_of)
        assert cv.labels == fresh.labels and cv.per_part == fresh.per_part


@pytest.mark.parametrize(
    "change",
    [
        {"model": ModelConfig("logreg")},
        {"model": ModelConfig("lda", {"priors": "uniform"})},
        {"split": SplitConfig(folds=3, seed=1)},
        {"split": SplitConfig(folds=4)},
    ],
    ids=["model", "model params", "split seed", "folds"],
)
def test_a_part_is_only_reused_by_the_same_computation(tmp_path, fits, change):
    table, store = _table(), PartStore(tmp_path)
    cross_validate_windows(table, CONFIG, store=store)
    fits.clear()
    changed = replace(CONFIG, **change)
    cv = cross_validate_windows(table, changed, store=store)
    assert len(fits) == len(cv.per_part)  # every part trained again
    np.testing.assert_array_equal(cv.probabilities, cross_validate_windows(table, changed).probabilities)


def test_more_repeats_or_calibration_reuse_the_parts_already_trained(tmp_path, fits):
    table, store = _table(), PartStore(tmp_path)
    first = cross_validate_windows(table, CONFIG, store=store)
    fits.clear()
    for changed in (
        replace(CONFIG, split=SplitConfig(folds=3, repeats=5)),
        replace(CONFIG, model=ModelConfig("lda", calibration="temperature")),
    ):
        cv = cross_validate_windows(table, changed, store=store)
        np.testing.assert_array_equal(cv.probabilities, first.probabilities)
    assert fits == []


def test_other_data_a_training_share_or_degraded_copies_train_again(tmp_path, fits):
    table, store = _table(), PartStore(tmp_path)
    cross_validate_windows(table, CONFIG, store=store)
    for call in (
        lambda: cross_validate_windows(_table(seed=1), CONFIG, store=store),
        lambda: cross_validate_windows(table, CONFIG, train_share=0.5, store=store),
        lambda: cross_validate_windows(table, CONFIG, [_table(seed=2)], store=store),
    ):
        fits.clear()
        call()
        assert len(fits) == 3


def test_an_interrupted_cross_validation_keeps_its_finished_parts(tmp_path, fits):
    table, store = _table(), PartStore(tmp_path)
    fits.stop_at = 3
    with pytest.raises(KeyboardInterrupt):
        cross_validate_windows(table, CONFIG, store=store)
    assert len(store) == 2
    fits.clear()
    fits.stop_at = 0
    resumed = cross_validate_windows(table, CONFIG, store=store)
    assert len(fits) == 1  # the part that was interrupted
    np.testing.assert_array_equal(resumed.probabilities, cross_validate_windows(table, CONFIG).probabilities)
    damaged = sorted(tmp_path.glob("*.npz"))[0]
    damaged.write_bytes(b"")
    fits.clear()
    cross_validate_windows(table, CONFIG, store=store)
    assert len(fits) == 1 and damaged.stat().st_size > 0  # that part alone trained and saved again
    np.savez(damaged, probabilities=np.zeros((8, 3)))  # a readable file of other arrays: trained again too
    fits.clear()
    again = cross_validate_windows(table, CONFIG, store=store)
    assert len(fits) == 1
    np.testing.assert_array_equal(again.probabilities, resumed.probabilities)


def test_a_condition_is_scored_by_each_parts_model_and_never_trained_on(tmp_path, fits):
    table = _table(per_window=True)
    same = cross_validate_windows(table, CONFIG, conditions={"copy": table})
    np.testing.assert_allclose(same.condition_probabilities["copy"], same.probabilities)
    assert len(fits) == 3  # the condition adds no training
    rng = np.random.default_rng(5)
    scrambled = replace(table, features=rng.normal(size=table.features.shape) * 10)
    missing = scrambled.take(range(1, len(table.labels)))  # the first track failed under this condition
    cv = cross_validate_windows(table, CONFIG, conditions={"noise": missing}, store=PartStore(tmp_path))
    np.testing.assert_array_equal(cv.probabilities, same.probabilities)  # training untouched
    under = cv.condition_probabilities["noise"]
    assert np.isnan(under[0]).all() and not np.isnan(under[1:]).any()
    assert not np.allclose(under[1:], cv.probabilities[1:])
    fits.clear()
    resumed = cross_validate_windows(table, CONFIG, conditions={"noise": missing}, store=PartStore(tmp_path))
    assert fits == []  # kept with the condition's verdicts
    np.testing.assert_array_equal(resumed.condition_probabilities["noise"], under)
    cross_validate_windows(table, CONFIG, conditions={"noise": scrambled}, store=PartStore(tmp_path))
    assert len(fits) == 3  # another condition table: other parts
