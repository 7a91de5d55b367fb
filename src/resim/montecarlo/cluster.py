"""Work on an existing dask.distributed cluster (`--dask ADDRESS`): connecting, checking that every
worker runs this resim, and mapping a function over items. What a task needs is shipped with it
(the resolved scenario, or the parsed scenario files and the overrides), scattered once to every
worker, so workers need neither the scenario files nor a shared file system. A task that gives no
answer within TASK_TIMEOUT_S stops the work with a message instead of waiting forever."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from resim import __version__
from resim.errors import InputError, TaskFailed, optional

TASK_TIMEOUT_S = 900.0  # no result for this long: the workers cannot run the task (a point is seconds)
CONNECT_TIMEOUT_S = 20.0  # no scheduler answer by then: nothing that speaks Dask listens at the address


def _resim_version() -> str:
    import resim

    return resim.__version__


def connect(scheduler: str) -> Any:
    """A client of the scheduler at `scheduler` whose workers all run this resim, or an input error
    saying why not (a malformed address, no scheduler within CONNECT_TIMEOUT_S, no workers, a worker without
    resim or with another version)."""
    distributed = optional("dask.distributed", "cluster")
    attempt: dict[str, Any] = {}

    def reach() -> None:  # in a thread: something that accepts the connection but speaks no Dask never answers
        try:
            attempt["client"] = distributed.Client(scheduler, timeout="10s")
        except Exception as exc:
            attempt["error"] = exc

    thread = threading.Thread(target=reach, daemon=True)
    thread.start()
    thread.join(CONNECT_TIMEOUT_S)
    if thread.is_alive():
        raise InputError.one(None, f"no Dask scheduler answered at {scheduler!r} within {CONNECT_TIMEOUT_S:.0f} s "
                                   "(something else may listen there); allowed: the address of a running scheduler, "
                                   "e.g. tcp://10.0.0.5:8786", field="--dask")
    error = attempt.get("error")
    if error is not None:
        raise InputError.one(None, f"cannot reach the Dask scheduler at {scheduler!r}: {type(error).__name__}: "
                                   f"{error}; allowed: the address of a running scheduler, e.g. tcp://10.0.0.5:8786",
                             field="--dask")
    client = attempt["client"]
    try:
        client.wait_for_workers(1, timeout=10)
        versions = client.run(_resim_version)
    except Exception as exc:  # a worker that cannot import resim fails here, not in the middle of the work
        client.close()
        raise InputError.one(None, f"the Dask workers at {scheduler!r} cannot run resim ({type(exc).__name__}: "
                                   f"{exc}); allowed: workers with resim {__version__} installed",
                             field="--dask") from None
    wrong = {w: v for w, v in versions.items() if v != __version__}
    if wrong:
        client.close()
        others = ", ".join(f"{w}: {v}" for w, v in wrong.items())
        raise InputError.one(None, f"Dask workers run another resim ({others}); allowed: resim {__version__} on "
                                   "every worker", field="--dask")
    return client


def as_completed_map(function: Callable[..., Any], shared: Any, items: list[Any], todo: list[int],
                     scheduler: str, label: Callable[[int], str] = str) -> Iterator[tuple[int, Any]]:
    """Yield (i, function(shared, items[i])) for `todo` as tasks finish; `shared` is scattered once.
    A failed task raises TaskFailed naming `label(i)`."""
    distributed = optional("dask.distributed", "cluster")
    with connect(scheduler) as client:
        data = client.scatter(shared, broadcast=True)
        futures = {client.submit(function, data, items[i], pure=False): i for i in todo}
        try:
            for future in distributed.as_completed(futures, timeout=TASK_TIMEOUT_S):
                i = futures[future]
                yield i, _result(future, label(i))
        except TimeoutError:
            raise TaskFailed(f"no result from the Dask workers for {TASK_TIMEOUT_S:.0f} s") from None
        finally:
            client.cancel(list(futures))


def _result(future: Any, label: str) -> Any:
    try:
        return future.result(timeout=TASK_TIMEOUT_S)
    except InputError:
        raise
    except TimeoutError:
        raise TaskFailed(f"{label}: no result from the Dask workers for {TASK_TIMEOUT_S:.0f} s") from None
    except Exception as exc:
        raise TaskFailed(f"{label} failed: {type(exc).__name__}: {exc}") from exc


def ordered_map(function: Callable[..., Any], shared: Any, items_for: Callable[[int], list[Any]],
                scheduler: str) -> Iterator[Any]:
    """Yield function(shared, item) for each item of `items_for(threads)` in order, where `threads`
    counts the cluster's worker threads (so the caller sizes its tasks to the cluster: a few per
    thread, as for local processes); three tasks a thread in flight."""
    with connect(scheduler) as client:
        threads = max(1, sum(client.nthreads().values()))
        items, window = items_for(threads), 3 * threads
        data = client.scatter(shared, broadcast=True)
        queue = iter(items)
        futures = [client.submit(function, data, item, pure=False)
                   for _, item in zip(range(window), queue, strict=False)]
        try:
            done = 0
            while futures:
                result = _result(futures.pop(0), f"task {done}")
                done += 1
                for item in queue:
                    futures.append(client.submit(function, data, item, pure=False))
                    break
                yield result
        finally:
            client.cancel(futures)
