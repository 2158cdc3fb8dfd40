from __future__ import annotations

from sonicprint.compare import evaluation_notes


def test_notes_say_how_two_runs_were_evaluated_differently():
    run = {"grouping": "track", "evaluation": "5-fold cross-validation, track-disjoint", "data_hash": "ab12"}
    assert evaluation_notes(run, dict(run)) == []
    assert evaluation_notes(run, {}) == []  # a run without metrics.json: nothing to say
    folds = {**run, "evaluation": "3-fold cross-validation, track-disjoint", "data_hash": "cd34"}
    assert evaluation_notes(run, folds) == [
        "evaluated differently (A: 5-fold cross-validation, track-disjoint; B: 3-fold cross-validation, "
        "track-disjoint)",
        "the runs saw different data (data hash A ab12, B cd34: other tracks, labels or group columns); "
        "only the tracks both judged are compared",
    ]
    album = {**run, "grouping": "album", "evaluation": "5-fold cross-validation, album-disjoint"}
    (note,) = evaluation_notes(run, album)
    assert note.startswith("the runs held out different things (A track-disjoint, B album-disjoint)")
