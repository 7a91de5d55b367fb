"""Where independent tasks run: local processes or a dask.distributed cluster, behind one call.

Sweeps, whole-model sensitivity and calibration map a function over their points (or batches) with
`as_completed`; outcomes come back as tasks finish, and the first failure stops everything at once,
raised as TaskFailed naming the task.
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from resim.errors import InputError, TaskFailed
from resim.montecarlo import cluster
from resim.montecarlo.runner import POOLS, die_with_parent


@dataclass(frozen=True)
class Tasks:
    """Work to map over `items`: `local(item)` on a local process (it must pickle: a module-level
    function or a partial of one), or `shipped(shared, item)` on a cluster worker, `shared` sent to
    every worker once; `label(i)` names task i in an error."""

    items: list[Any]
    local: Callable[[Any], Any]
    shipped: Callable[[Any, Any], Any] | None = None
    shared: Any = None
    label: Callable[[int], str] = str


def as_completed(tasks: Tasks, todo: list[int], workers: int,
                 dask_scheduler: str | None = None) -> Iterator[tuple[int, Any]]:
    """Yield (i, outcome of task i) for each i in `todo` as tasks finish, on `workers` local
    processes or on the cluster at `dask_scheduler`."""
    if dask_scheduler:
        if tasks.shipped is None:
            raise InputError.one(None, "this work cannot run on a Dask cluster", field="--dask")
        return cluster.as_completed_map(tasks.shipped, tasks.shared, tasks.items, todo, dask_scheduler, tasks.label)
    return _on_local_processes(tasks, todo, workers)


def _on_local_processes(tasks: Tasks, todo: list[int], workers: int) -> Iterator[tuple[int, Any]]:
    if workers <= 1:
        for i in todo:
            yield i, _guarded(functools.partial(tasks.local, tasks.items[i]), tasks.label(i))
        return
    pending: dict[Future[Any], int] = {}
    queue = iter(todo)
    with ProcessPoolExecutor(max_workers=workers, mp_context=POOLS, initializer=die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        try:
            for i in itertools.islice(queue, workers * 2):
                pending[pool.submit(tasks.local, tasks.items[i])] = i
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    i = pending.pop(future)
                    outcome = _guarded(future.result, tasks.label(i))
                    for j in itertools.islice(queue, 1):
                        pending[pool.submit(tasks.local, tasks.items[j])] = j
                    yield i, outcome
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=False, cancel_futures=True)


def _guarded(compute: Callable[[], Any], label: str) -> Any:
    try:
        return compute()
    except InputError:
        raise
    except Exception as exc:
        raise TaskFailed(f"{label} failed: {type(exc).__name__}: {exc}") from exc
