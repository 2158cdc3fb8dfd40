"""Nested cross-validation: each part chooses a model on its own training tracks; the choices are scored."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sonicprint.config import ExperimentConfig, ModelConfig, SelectionConfig, SplitConfig
from sonicprint.errors import ConfigError
from sonicprint.experiment import cross_validate_windows, evaluation_splits
from sonicprint.pipeline import FeatureTable
from sonicprint.selection import inner_accuracy, model_description, nested_selection, selection_summary

#: votes over every training track: always the most common label, a model that knows nothing
KNOWS_NOTHING = ModelConfig("knn_pca", {"k": 1000})
LDA = ModelConfig("lda")


def _table(*, tracks_per_label: int = 9, labels: int = 3, seed: int = 0) -> FeatureTable:
    """Gaussian clusters: two informative dimensions, four of noise; one group per track."""
    rng = np.random.default_rng(seed)
    names = [f"maker{k}" for k in range(labels) for _ in range(tracks_per_label)]
    angles = 2 * np.pi * np.arange(labels) / labels
    centres = 4.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    informative = np.repeat(centres, tracks_per_label, axis=0) + rng.normal(size=(len(names), 2))
    features = np.hstack([informative, rng.normal(size=(len(names), 4))])
    hashes = [f"h{i:03d}" for i in range(len(names))]
    return FeatureTable(list(hashes), names, [{} for _ in names], hashes, features)


def _config(*candidates: ModelConfig, model: ModelConfig = LDA, repeats: int = 1, **selection):
    return ExperimentConfig(
        model=model,
        split=SplitConfig(folds=3, repeats=repeats),
        selection=SelectionConfig(candidates=candidates, **selection),
    )


def test_each_part_chooses_the_model_that_knows_the_makers():
    result = nested_selection(_table(), _config(ModelConfig("lda"), model=KNOWS_NOTHING, repeats=2))
    assert result["models"] == ["knn_pca (k=1000)", "lda"]
    assert result["picks"] == [[1, 1, 1], [1, 1, 1]]
    assert result["times_picked"] == [0, 6]
    assert result["inner_accuracy_mean"][1] > result["inner_accuracy_mean"][0]
    # every part chose lda, so the choosing scores exactly what lda scores on the same parts
    assert result["accuracy"] == result["model_accuracy"][1]
    assert result["model_accuracy_mean"][1] > 0.8 > 0.5 > result["model_accuracy_mean"][0]
    assert result["best_afterwards"] == 1
    assert result["optimism"] == pytest.approx(0.0)


def test_the_choices_are_the_chosen_models_own_verdicts_on_each_part():
    table = _table(seed=4)
    config = _config(ModelConfig("logreg"), KNOWS_NOTHING, inner_folds=2)
    result = nested_selection(table, config)
    truth = np.array([sorted(set(table.labels)).index(lab) for lab in table.labels])
    models = [config.model, *config.selection.candidates]
    outer = [cross_validate_windows(table, replace(config, model=m)) for m in models]
    correct = np.zeros(len(truth), dtype=bool)
    for pick, (_, _, evaluated) in zip(result["picks"][0], evaluation_splits(table, config)):
        correct[evaluated] = outer[pick].probabilities[evaluated].argmax(1) == truth[evaluated]
    assert result["accuracy"] == [pytest.approx(correct.mean())]
    assert result["model_accuracy"] == [
        [pytest.approx(np.mean(cv.probabilities.argmax(1) == truth))] for cv in outer
    ]
    assert result["optimism"] == pytest.approx(max(result["model_accuracy_mean"]) - result["accuracy_mean"])


def test_a_choice_never_reads_the_tracks_it_is_scored_on():
    table = _table(seed=1)
    config = _config(ModelConfig("logreg"))
    _, train, evaluated = evaluation_splits(table, config)[0]
    before = inner_accuracy(table, config, train)
    scrambled = replace(table, features=table.features.copy())
    scrambled.features[evaluated] = np.random.default_rng(9).normal(scale=50.0, size=(len(evaluated), 6))
    assert inner_accuracy(scrambled, config, train) == before


def test_inner_splits_keep_groups_whole():
    table = _table(tracks_per_label=12)
    table = replace(table, groups=[{"album": f"album{i // 3}"} for i in range(len(table.labels))])
    config = replace(_config(ModelConfig("logreg")), split=SplitConfig(folds=3, group="album"))
    _, train, _ = evaluation_splits(table, config)[0]
    inner = table.take(train)
    inner_config = replace(config, split=SplitConfig(folds=3, group="album"))
    for _, inner_train, inner_test in evaluation_splits(inner, inner_config):
        albums = inner.group_values("album")
        assert not {albums[i] for i in inner_train} & {albums[i] for i in inner_test}
    assert 0.0 <= inner_accuracy(table, config, train) <= 1.0


def test_a_bar_counts_every_cross_validation(monkeypatch):
    import tqdm

    bars = []

    class Recorder:
        def __init__(self, *, total, disable, **kwargs):  # type: ignore[no-untyped-def]
            self.total, self.disable, self.n, self.closed = total, disable, 0, False
            bars.append(self)

        def update(self, n=1):  # type: ignore[no-untyped-def]
            self.n += n

        def close(self):  # type: ignore[no-untyped-def]
            self.closed = True

    monkeypatch.setattr(tqdm, "tqdm", Recorder)
    nested_selection(_table(), _config(ModelConfig("logreg"), repeats=2), progress=True)
    # two models, each cross-validated once per seed (2) and inside each part (3 per seed, 6 in all)
    assert [(bar.total, bar.n, bar.disable, bar.closed) for bar in bars] == [(16, 16, False, True)]


def test_nested_selection_is_deterministic():
    config = _config(ModelConfig("logreg"), ModelConfig("knn_pca", {"k": 3}), repeats=2)
    assert nested_selection(_table(seed=2), config) == nested_selection(_table(seed=2), config)


def test_a_part_whose_labels_each_keep_one_album_cannot_choose_and_says_why_before_training(monkeypatch):
    import sonicprint.selection

    def never(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("trained before the check")

    monkeypatch.setattr(sonicprint.selection, "cross_validate_windows", never)
    table = _table(tracks_per_label=12)
    # two albums per maker: a part that holds one out keeps a single album of that maker to choose on
    table = replace(table, groups=[{"album": f"album{i // 6}"} for i in range(len(table.labels))])
    config = replace(_config(ModelConfig("logreg")), split=SplitConfig(folds=2, group="album"))
    with pytest.raises(
        ConfigError, match=r"model selection, part \d: its training tracks cannot choose: album-"
    ):
        nested_selection(table, config)


def test_too_many_inner_folds_for_a_part_name_the_part():
    with pytest.raises(ConfigError, match=r"model selection, part 0: .*cannot fill 50 folds"):
        nested_selection(_table(), _config(ModelConfig("logreg"), inner_folds=50))


def test_descriptions_and_summary_say_which_model_and_how_far_apart():
    assert model_description(ModelConfig("lda", {"priors": "uniform"}, "late")) == (
        "lda (priors=uniform), late fusion"
    )
    assert (
        model_description(ModelConfig("mlp", {"members": 3, "epochs": 150})) == "mlp (epochs=150, members=3)"
    )
    result = nested_selection(_table(seed=5), _config(KNOWS_NOTHING, ModelConfig("logreg"), repeats=2))
    text = selection_summary(result)
    assert "choosing among 3 models by inner 3-fold CV" in text
    assert f"accuracy {result['accuracy_mean']:.3f} ± {result['accuracy_std']:.3f} over 2 split seeds" in text
    optimistic = {**result, "optimism": 0.05}
    assert "overstate the choosing by 5.0 points" in selection_summary(optimistic)
    assert "does as well" in selection_summary({**result, "optimism": 0.0})


def test_a_holdout_split_chooses_on_each_part_and_scores_the_test_part_only():
    table = _table(tracks_per_label=12)
    config = replace(_config(KNOWS_NOTHING), split=SplitConfig(method="holdout"))
    result = nested_selection(table, config)
    parts = evaluation_splits(table, config)
    assert [name for name, _, _ in parts] == ["val", "test"] and len(result["picks"][0]) == 2
    _, _, test = parts[1]
    truth = np.array([sorted(set(table.labels)).index(lab) for lab in table.labels])
    lda = cross_validate_windows(table, config)
    assert result["picks"][0][1] == 0  # lda, the run's model, knows the makers
    assert result["accuracy"] == [pytest.approx(np.mean(lda.probabilities[test].argmax(1) == truth[test]))]


def test_an_interrupted_selection_resumes_where_it_stopped(tmp_path, fits):
    from sonicprint.part_store import PartStore

    table, config = _table(seed=6), _config(ModelConfig("logreg"), repeats=2)
    uninterrupted = nested_selection(table, config)
    trained = len(fits)  # two models x 2 seeds x (3 outer parts + 3 x 3 inner parts)
    assert trained == 2 * 2 * (3 + 9)
    store = PartStore(tmp_path / "parts")
    fits.clear()
    fits.stop_at = 20  # stops while training the 20th part: 19 are kept
    with pytest.raises(KeyboardInterrupt):
        nested_selection(table, config, store=store)
    assert len(store) == 19 and not list(store.directory.glob("*.partial.npz"))
    fits.clear()
    fits.stop_at = 0
    assert nested_selection(table, config, store=store) == uninterrupted
    assert len(fits) == trained - 19
    fits.clear()
    assert nested_selection(table, config, store=store) == uninterrupted
    assert fits == []  # all of it done: nothing trains again
    other = _config(ModelConfig("knn_pca", {"k": 3}), repeats=2)  # another candidate: only it trains
    nested_selection(table, other, store=store)
    assert len(fits) == trained // 2  # the run's own lda, the same model on the same splits, is kept


def test_the_chosen_models_parts_scored_under_conditions_are_not_trained_again(tmp_path, fits):
    from sonicprint.part_store import PartStore

    table, config = _table(seed=7), _config(ModelConfig("logreg"), repeats=2)
    rng = np.random.default_rng(0)
    noisy = replace(table, features=table.features + rng.normal(scale=0.5, size=table.features.shape))
    conditions = {"noise": noisy}
    store = PartStore(tmp_path / "parts")
    selection = nested_selection(table, config, store=store, conditions=conditions)
    chosen = (config.model, *config.selection.candidates)[selection["best_afterwards"]]
    fits.clear()
    for seed in (0, 1):
        run_config = replace(config, model=chosen, split=replace(config.split, seed=seed))
        cv = cross_validate_windows(table, run_config, store=store, conditions=conditions)
        assert np.isfinite(cv.condition_probabilities["noise"]).all()
    assert fits == []  # every outer part of the choice, its verdicts under the condition too, was kept
    cross_validate_windows(table, replace(config, model=chosen), store=store, conditions={"other": noisy})
    assert len(fits) == 3  # other conditions: other parts
