from __future__ import annotations

import os

import pytest

from sonicprint.executors import EXECUTORS, create_executor
from sonicprint.registry import UnknownNameError


def square_or_fail(x: int) -> int:
    if x == 3:
        raise ValueError("three is bad")
    return x * x


def die_on_three(x: int) -> int:
    if x == 3:
        os._exit(1)  # as a crash in native code or the kernel's out-of-memory killer would end it
    return x


class StubbornError(Exception):
    """An exception whose pickle cannot be rebuilt (its constructor takes two arguments, as some
    libraries' do)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"[{code}] {message}")


def fail_stubbornly_on_three(x: int) -> int:
    if x == 3:
        raise StubbornError(1094995529, "Invalid data found when processing input")
    return x


def test_an_exception_that_cannot_be_unpickled_comes_back_as_its_message():
    results = dict(
        create_executor("process", workers=2).map_unordered(fail_stubbornly_on_three, list(range(6)))
    )
    assert {k: v for k, v in results.items() if k != 3} == {0: 0, 1: 1, 2: 2, 4: 4, 5: 5}
    assert isinstance(results[3], RuntimeError)
    assert str(results[3]) == "StubbornError: [1094995529] Invalid data found when processing input"


def _run(executor):
    results = dict(executor.map_unordered(square_or_fail, list(range(6))))
    assert sorted(results) == list(range(6))
    assert isinstance(results[3], ValueError) and "three is bad" in str(results[3])
    assert {k: v for k, v in results.items() if k != 3} == {0: 0, 1: 1, 2: 4, 4: 16, 5: 25}


@pytest.mark.parametrize("name", [n for n in EXECUTORS.names() if n != "ray"])
def test_executor_contract_one_failure_never_stops_the_others(name):
    _run(create_executor(name, workers=2))


@pytest.mark.slow
def test_ray_executor_on_a_local_cluster():
    # Ray 2.x removed local_mode; a single-node cluster started here is its replacement for tests
    pytest.importorskip("ray")
    import ray

    try:
        _run(create_executor("ray", workers=2))
    finally:
        ray.shutdown()


def test_unknown_executor():
    with pytest.raises(UnknownNameError, match="known: process, ray, serial"):
        create_executor("dask")


def test_a_dead_worker_stops_the_pool_with_what_to_do():
    with pytest.raises(RuntimeError, match=r"worker process died; \d+ jobs unfinished.*__main__.*'serial'"):
        list(create_executor("process", workers=2).map_unordered(die_on_three, list(range(6))))
