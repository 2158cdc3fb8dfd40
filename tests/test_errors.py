from __future__ import annotations

import pickle

import pytest

from sonicprint import errors


def _file_problem_classes() -> list[type[errors.FileProblem]]:
    found, todo = [], [errors.FileProblem]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted(found, key=lambda c: c.__name__)


@pytest.mark.parametrize("cls", _file_problem_classes(), ids=lambda c: c.__name__)
def test_a_file_problem_survives_the_trip_back_from_a_worker_process(cls):
    sent = cls("music/a.flac", "silent: nothing to attribute")
    back = pickle.loads(pickle.dumps(sent))
    assert type(back) is cls
    assert (back.path, back.problem, str(back)) == (
        "music/a.flac",
        "silent: nothing to attribute",
        "music/a.flac: silent: nothing to attribute",
    )
