"""Tasks on a dask cluster, handed out one at a time as workers become free.

Every scenario task depends on the same large shared inputs. Two things in dask work against
an ensemble of such tasks:

- dask assigns tasks with dependencies to workers as soon as they are submitted, by where
  their dependencies live, and work stealing rebalances them only in part: with 16 scenarios
  on 2 workers one worker was left idle for 7 s while the other had two scenarios queued;
- its memory manager drops a worker's copy of data that another worker also holds as soon as
  no task waiting on that worker needs it, so a worker that ran out of queued tasks fetched the
  shared inputs (about 200 MB for Ghent) again for its next scenario.

So each worker gets its own copy of the shared inputs, under its own key: read by the worker
itself where it can reach them (:func:`load_on_workers`, e.g. from the results cache), else sent
once and copied between workers (:func:`share`); and :func:`submit_as_workers_free` keeps one task per worker
thread in flight and hands the next item to the worker that just finished.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def _identity(obj: T) -> T:
    return obj


def share(client: Any, obj: Any, *, key: str) -> Callable[[str], Any]:
    """Put ``obj`` on the cluster with a copy on every worker; return ``worker address -> future``.

    ``obj`` travels once, as the result of a task (so the scheduler keeps its spec: a copy
    lost with its worker is rebuilt elsewhere); each worker then holds a copy under its own key
    (``key-0``, ``key-1``, ...), fetched from a peer (:func:`load_on_workers`); a worker that joined later
    gets its copy when first asked for.

    Examples
    --------
    >>> from distributed import Client
    >>> with Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None) as client:  # doctest: +SKIP
    ...     on = share(client, [0, 1, 2], key="shared")
    ...     [on(w).result() for w in client.nthreads()]
    [[0, 1, 2], [0, 1, 2]]
    """
    original = client.submit(_identity, obj, key=key, pure=False)
    return load_on_workers(client, _identity, original, key=key)


def load_on_workers(client: Any, load: Callable[..., Any], *args: Any, key: str) -> Callable[[str], Any]:
    """Have every worker compute its own copy of ``load(*args)``; return ``worker address -> future``.

    For data every worker can read itself (a file on a shared or local disk): nothing travels
    through the scheduler or between workers. Each copy is a task pinned loosely to its worker
    (``key-0``, ``key-1``, ...), so a copy lost with its worker is rebuilt elsewhere; a worker that
    joined later gets its copy when first asked for.

    Examples
    --------
    >>> from distributed import Client
    >>> with Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None) as client:  # doctest: +SKIP
    ...     on = load_on_workers(client, sum, [1, 2, 3], key="total")
    ...     [on(w).result() for w in client.nthreads()]
    [6, 6]
    """

    def submit(worker: str, i: int) -> Any:
        return client.submit(load, *args, key=f"{key}-{i}", workers=[worker], allow_other_workers=True, pure=False)

    copies = {w: submit(w, i) for i, w in enumerate(sorted(client.nthreads()))}

    def on(worker: str) -> Any:
        if worker not in copies:
            copies[worker] = submit(worker, len(copies))
        return copies[worker]

    return on


def submit_as_workers_free(client: Any, items: Sequence[T], submit: Callable[[T, str], Any]) -> Iterator[tuple[T, Any]]:
    """Yield ``(item, result)`` for every item, at most one task per cluster thread in flight.

    ``submit(item, worker)`` submits the item's task for ``worker`` (an address; restrict it
    loosely, with ``allow_other_workers=True``, so a lost worker's task runs elsewhere) and
    returns its future. Items are handed out in order, each to the worker that just became
    free, before the finished task's result is fetched. Results come in the order the tasks
    finish. A task's error is raised when its result is reached.

    Examples
    --------
    >>> from distributed import Client
    >>> with Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:  # doctest: +SKIP
    ...     run = lambda x, w: client.submit(pow, x, 2, workers=[w], allow_other_workers=True)
    ...     done = dict(submit_as_workers_free(client, [1, 2, 3], run))
    >>> done  # doctest: +SKIP
    {1: 1, 2: 4, 3: 9}
    """
    from distributed import as_completed

    threads = client.nthreads()
    slots = [w for w in sorted(threads) for _ in range(max(1, threads[w]))] or [""]
    waiting = iter(items)
    in_flight: dict[Any, tuple[T, str]] = {}
    for w, item in zip(slots, waiting):
        in_flight[submit(item, w)] = (item, w)
    finished = as_completed(list(in_flight))  # type: ignore[no-untyped-call]  # distributed leaves it unannotated
    for fut in finished:
        item, w = in_flight.pop(fut)
        for nxt in waiting:  # the next item, if any, before this result travels to the client
            if w not in client.nthreads():  # lost: the least busy live worker instead
                busy = [v for _, v in in_flight.values()]
                w = min(sorted(client.nthreads()), key=busy.count, default=w)
            new = submit(nxt, w)
            in_flight[new] = (nxt, w)
            finished.add(new)  # type: ignore[no-untyped-call]  # distributed leaves it unannotated
            break
        yield item, fut.result()
