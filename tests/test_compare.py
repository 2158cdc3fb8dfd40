from __future__ import annotations

from sonicprint.compare import evaluation_notes


def _run(**split):
    return {
        "grouping": "track",
        "evaluation": "5-fold cross-validation, track-disjoint",
        "data_hash": "ab12",
        "config": {"split": {"method": "kfold", "folds": 5, "seed": 0, "test_fraction": 0.2, **split}},
    }


def test_notes_say_how_two_runs_were_split_differently():
    run = _run()
    assert evaluation_notes(run, _run()) == []
    assert evaluation_notes(run, {}) == []  # a run without metrics.json: nothing to say
    folds = {**_run(folds=3, seed=1), "data_hash": "cd34"}
    assert evaluation_notes(run, folds) == [
        "split differently (folds: A 5, B 3; seed: A 0, B 1): each track was held out from another training "
        "set, so part of the difference is the split's",
        "the runs saw different data (data hash A ab12, B cd34: other tracks, labels or group columns); "
        "only the tracks both judged are compared",
    ]
    album = {**run, "grouping": "album", "evaluation": "5-fold cross-validation, album-disjoint"}
    (note,) = evaluation_notes(run, album)
    assert note.startswith("the runs held out different things (A track-disjoint, B album-disjoint)")


def test_model_settings_in_the_evaluation_sentence_raise_no_note():
    """Calibration, windows or augmentation are what two runs are compared for, not a different split."""
    run = _run()
    calibrated = {
        **_run(test_fraction=0.3),
        "evaluation": run["evaluation"] + "; probabilities temperature-scaled",
    }
    assert evaluation_notes(run, calibrated) == []  # a k-fold split ignores the holdout fractions


def test_holdout_fractions_count_and_runs_without_a_config_compare_their_split_clause():
    holdout = _run(method="holdout")
    assert (
        "test fraction: A 0.2, B 0.3"
        in evaluation_notes(holdout, _run(method="holdout", test_fraction=0.3))[0]
    )
    bare = {"evaluation": "5-fold cross-validation, track-disjoint; decided per track"}
    assert evaluation_notes(bare, {"evaluation": "5-fold cross-validation, track-disjoint"}) == []
    (note,) = evaluation_notes(bare, {"evaluation": "3-fold cross-validation, track-disjoint"})
    assert note.startswith("split differently (A: 5-fold cross-validation, track-disjoint; B: 3-fold")


def test_a_run_repeated_over_split_seeds_is_said_to_be_compared_on_its_first_seed():
    repeated = {**_run(), "repeats": {"seeds": [0, 1, 2], "accuracy_mean": 0.859, "accuracy_std": 0.026}}
    (note,) = evaluation_notes(repeated, _run())
    assert note == (
        "mean accuracy A 85.9% ± 2.6% over 3 split seeds; this comparison is of the predictions of the first "
        "split seed, the ones predictions.csv holds"
    )
    assert "B 85.9% ± 2.6% over 3 split seeds" in evaluation_notes(repeated, repeated)[0]
