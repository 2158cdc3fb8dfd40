"""Executors: how independent jobs (one per track) run — in-process, on local processes, or on Ray.

Every executor yields ``(index, result_or_exception)`` as jobs finish, so one failing job never stops the
others and finished work is handed back (and cached) at once.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from .registry import Registry


class Executor(Protocol):
    def map_unordered(
        self, fn: Callable[[Any], Any], items: Sequence[Any]
    ) -> Iterator[tuple[int, Any | BaseException]]: ...


EXECUTORS: Registry[Callable[..., Executor]] = Registry("executor")


def create_executor(name: str, *, workers: int = 0, **kwargs: Any) -> Executor:
    """The executor ``name`` with ``workers`` processes (0: one per core)."""
    return EXECUTORS.get(name)(workers=workers, **kwargs)


def list_executors() -> list[str]:
    return EXECUTORS.names()


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@EXECUTORS.register("serial")
class SerialExecutor:
    """Runs jobs one after another in this process (for debugging and tiny collections)."""

    def __init__(self, *, workers: int = 0) -> None:
        del workers

    def map_unordered(
        self, fn: Callable[[Any], Any], items: Sequence[Any]
    ) -> Iterator[tuple[int, Any | BaseException]]:
        for index, item in enumerate(items):
            try:
                yield index, fn(item)
            except Exception as exc:
                yield index, exc


def _single_threaded_worker() -> None:
    # Ctrl-C reaches every process of the terminal's group: the parent alone handles it (cancels what
    # has not started, keeps what finished); workers interrupted mid-job would only print tracebacks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Each worker process already has a core to itself; BLAS/OpenMP threads on top only contend.
    # torch is imported later (lazily) and reads these at import.
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def _call_with_portable_error(fn: Callable[[Any], Any], item: Any) -> Any:
    """``fn(item)`` in a worker, its exception made one the parent can unpickle: an exception that cannot
    be rebuilt from its pickle (a library's with a constructor of its own) would break the whole pool."""
    import pickle

    try:
        return fn(item)
    except Exception as exc:
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:
            raise RuntimeError(f"{type(exc).__name__}: {exc}") from None
        raise


@EXECUTORS.register("process")
class ProcessExecutor:
    """A pool of local worker processes, one per core by default."""

    def __init__(self, *, workers: int = 0) -> None:
        self.workers = workers or default_workers()

    def map_unordered(
        self, fn: Callable[[Any], Any], items: Sequence[Any]
    ) -> Iterator[tuple[int, Any | BaseException]]:
        if self.workers <= 1 or len(items) <= 1:
            yield from SerialExecutor().map_unordered(fn, items)
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=_single_threaded_worker
        ) as pool:
            pending = {
                pool.submit(_call_with_portable_error, fn, item): index for index, item in enumerate(items)
            }
            try:
                yield from _results_as_done(pending)
            except BaseException:  # interrupted, or stopped: jobs not started are dropped, not waited for
                pool.shutdown(wait=True, cancel_futures=True)
                raise


def _results_as_done(pending: dict[Any, int]) -> Iterator[tuple[int, Any | BaseException]]:
    """(index, result or exception) of each future in ``pending`` as it finishes."""
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    while pending:
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in done:
            index = pending.pop(future)
            exc = future.exception()
            if isinstance(exc, BrokenProcessPool):
                # A worker died (killed, or crashed in native code): not a problem of this job's
                # file. Stop; finished work is kept and a rerun resumes.
                raise RuntimeError(
                    f"a worker process died; {len(pending) + 1} jobs unfinished (killed, out of "
                    "memory, or crashed in native code; a script that starts this work must run it "
                    "under `if __name__ == '__main__':`, since workers import the script; "
                    "finished work is kept: run again, or use the 'serial' executor to see the "
                    "crash)"
                ) from exc
            yield index, exc if exc is not None else future.result()


@EXECUTORS.register("ray")
class RayExecutor:
    """Jobs as Ray tasks: on a running cluster (``address`` or ``RAY_ADDRESS``), else on a local
    single-node cluster started on demand with ``workers`` CPUs.
    """

    def __init__(self, *, workers: int = 0, address: str | None = None) -> None:
        self.workers = workers or None
        self.address = address or os.environ.get("RAY_ADDRESS")

    def map_unordered(
        self, fn: Callable[[Any], Any], items: Sequence[Any]
    ) -> Iterator[tuple[int, Any | BaseException]]:
        try:
            import ray
        except ImportError as exc:
            raise ImportError("the 'ray' executor needs Ray: pip install 'sonicprint[ray]'") from exc
        if not ray.is_initialized():
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # never phone home unless the user asks
            ray.init(
                address=self.address,
                num_cpus=None if self.address else self.workers,
                ignore_reinit_error=True,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
        remote = ray.remote(fn)
        pending = {remote.remote(item): index for index, item in enumerate(items)}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                index = pending.pop(ref)
                try:
                    yield index, ray.get(ref)
                except Exception as exc:  # RayTaskError wraps the job's own exception
                    cause = getattr(exc, "cause", None)
                    yield index, cause if isinstance(cause, BaseException) else exc
