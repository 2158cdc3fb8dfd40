from __future__ import annotations

import os
import signal
import time
from pathlib import Path

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


def mark_then_wait(job: tuple[str, int]) -> int:
    folder, x = job
    Path(folder, f"{x}.started").touch()
    time.sleep(0.2)
    return x


def ignores_ctrl_c(_: int) -> bool:
    return signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_stopping_early_drops_the_jobs_not_started_instead_of_running_them(tmp_path):
    jobs = [(str(tmp_path), x) for x in range(60)]
    results = create_executor("process", workers=2).map_unordered(mark_then_wait, jobs)
    next(results)
    results.close()  # as an interruption in the caller would: the pool is shut down at once
    started = len(list(tmp_path.glob("*.started")))
    assert 1 <= started < 20  # the running jobs and the few already queued, not the 60


def test_workers_leave_ctrl_c_to_the_parent():
    # Ctrl-C reaches the whole process group; the parent stops the pool and says what it kept
    assert all(ok for _, ok in create_executor("process", workers=2).map_unordered(ignores_ctrl_c, [0, 1, 2]))


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
