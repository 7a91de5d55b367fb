"""Monte Carlo: run replications of one scenario, in order, on local processes.

Replication i depends only on (seed, i) and the scenario, never on which worker ran it, and chunks
come back in replication order, so results are bit-identical for any number of workers.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import itertools
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from resim.errors import InputError, TaskFailed
from resim.model import ConservationError, simulate
from resim.montecarlo.worlds import sample_world
from resim.scenario.schema import Scenario


@dataclass(frozen=True)
class Replication:
    index: int
    series: np.ndarray  # reported months x columns
    draws: dict[str, float]  # world parameters drawn for this replication
    outcomes: dict[str, str]  # uncertain regime changes: the outcome drawn


def run_one(scenario: Scenario, seed: int, index: int, check: bool = False,
            given: dict[str, float] | None = None) -> Replication:
    """Replication `index`; `given` sets some of its world's uniforms (see `sample_world`)."""
    with _young_garbage_only():
        world = sample_world(scenario, seed, index, given)
        series = simulate(world, seed, index, check)[scenario.report_offset:]  # known history is not reported
        if not np.isfinite(series).all():  # an input beyond floating point (demand of 1e308 vehicles) gave NaN
            raise ConservationError(f"replication {index}: a non-finite figure (NaN or infinity) in the results; "
                                    "an input is too large for the arithmetic: check the scenario's magnitudes")
        return Replication(index, series, world.draws, world.outcomes)


@contextmanager
def _young_garbage_only() -> Iterator[None]:
    """Pause the cyclic garbage collector during a replication, then collect only what it made.

    A replication's objects live until it ends, so automatic collections only walk them (and the
    whole heap, now and then) for nothing; measured: 12% of a replication's time."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(0)


_WORKER_SCENARIO: Scenario | None = None


POOLS = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
"""How worker processes start, stated rather than left to the Python version's default: fork on
Linux, as the main process has no threads when a pool starts (the CLI's progress bars refresh
without one), so fork is safe and Python 3.12+ has nothing to warn about. Forkserver (3.14's
default) was measured: 2.2 s more per run to start its server (pause_ends, 8 replications, 2
workers: 5.5 s against 3.3 s; 200 replications 15 s against 12 s, plain build)."""


def die_with_parent(parent: int) -> None:
    """Ask the kernel to kill this worker when its parent dies, however it dies (kill -9 included),
    and leave Ctrl-C to the parent (Linux; elsewhere a no-op)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except OSError:
            return
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)


PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _init_worker(scenario: Scenario, parent: int) -> None:
    global _WORKER_SCENARIO
    die_with_parent(parent)
    _WORKER_SCENARIO = scenario


def _run_chunk(seed: int, indices: range, check: bool) -> list[Replication]:
    assert _WORKER_SCENARIO is not None
    return [run_one(_WORKER_SCENARIO, seed, i, check) for i in indices]


MAX_REPLICATIONS = 200_000  # the summary holds 3 floats per replication and month: ~1.7 GB at 72 months
WORKERS_PER_CORE = 4  # beyond this, processes only add start-up time and memory


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def checked_workers(workers: int | None) -> int:
    """`workers`, or all cores; more than WORKERS_PER_CORE per core is an input error."""
    cores = default_workers()
    if workers is not None and workers > WORKERS_PER_CORE * cores:
        raise InputError.one(None, f"{workers} workers on {cores} core(s); allowed: 1 to {WORKERS_PER_CORE * cores} "
                                   f"({WORKERS_PER_CORE} per core: more only add start-up time and memory)",
                             field="--workers")
    return workers or cores


def checked_replications(replications: int, field: str = "--replications") -> int:
    if replications > MAX_REPLICATIONS:
        raise InputError.one(None, f"{replications:,} replications; allowed: 1 to {MAX_REPLICATIONS:,} (the run's "
                                   "summary is held in memory: split larger studies into runs with other seeds)",
                             field=field)
    return replications


def chunks(replications: int, workers: int) -> list[range]:
    """Chunks large enough to amortise inter-process overhead (measured: 25 is a knee) and small
    enough to show progress; the last two chunks' worth per worker come in chunks a fifth that size,
    so that no core idles long at the end waiting for another's last chunk."""
    size = max(1, min(25, replications // max(1, workers * 8)))
    small = max(1, size // 5)
    tail = min(replications, 2 * workers * size)
    bulk = replications - tail
    return [range(a, min(a + size, bulk)) for a in range(0, bulk, size)] + \
        [range(a, min(a + small, replications)) for a in range(bulk, replications, small)]


def _shipped_chunk(scenario: Scenario, indices: range, seed: int, check: bool) -> list[Replication]:
    """A chunk on a cluster worker, from the resolved scenario shipped to it."""
    return [run_one(scenario, seed, i, check) for i in indices]


def run(scenario: Scenario, replications: int, seed: int, workers: int | None = None, check: bool = False,
        first: int = 0, dask_scheduler: str | None = None) -> Iterator[list[Replication]]:
    """Chunks of replications first..first+replications-1, in index order (`check`: check the
    books after every event), on local processes or the dask.distributed cluster at
    `dask_scheduler` (same results). The worker processes start at once, so the caller can prepare
    (open its writer) while the first chunks compute. A worker's exception propagates at once."""
    if dask_scheduler:
        from resim.montecarlo import cluster

        def parts_for(threads: int) -> list[range]:  # chunks as for local processes, one per worker thread
            return [range(first + p.start, first + p.stop) for p in chunks(replications, threads)]

        shipped = functools.partial(_shipped_chunk, seed=seed, check=check)
        return cluster.ordered_map(shipped, scenario, parts_for, dask_scheduler)
    workers = workers or default_workers()
    parts = [range(first + p.start, first + p.stop) for p in chunks(replications, workers)]
    if workers <= 1 or len(parts) <= 1:
        return ([run_one(scenario, seed, i, check) for i in part] for part in parts)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=POOLS, initializer=_init_worker,
                               initargs=(scenario, os.getpid()))
    pending = iter(parts)
    window = workers * 3  # chunks in flight: keeps memory flat however many replications
    futures = deque(pool.submit(_run_chunk, seed, part, check) for part in itertools.islice(pending, window))
    return _gather(pool, futures, pending, seed, check)


def _gather(pool: ProcessPoolExecutor, futures: deque[Future[list[Replication]]], pending: Iterator[range],
            seed: int, check: bool) -> Iterator[list[Replication]]:
    """Yield finished chunks in order, keeping the window full; shut the pool down at the end. Stopped
    early (an error, Ctrl-C, the caller's break), it kills the workers rather than wait for the
    chunks in flight (concurrent.futures joins them at exit otherwise; Python 3.11 has no public
    call for this, hence `_processes`). Measured: SIGTERM of a 400-replication run exits in 0.6 s, not 5 s."""
    finished = False
    try:
        while futures:
            try:
                done = futures.popleft().result()
            except BrokenProcessPool:  # a worker was killed (by the OOM killer, or by hand)
                raise TaskFailed("a worker process died while running replications (killed, or out of memory)",
                                 "the run was not written; run it again (with fewer --workers if memory ran "
                                 "short)") from None
            for part in itertools.islice(pending, 1):
                futures.append(pool.submit(_run_chunk, seed, part, check))
            yield done
        finished = True
    finally:
        if not finished:
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
        # wait even when stopping: the pool's manager thread must be gone before the interpreter's
        # exit hook writes to its wake-up pipe (else, at times, an EBADF traceback after the message)
        pool.shutdown(wait=True, cancel_futures=True)
