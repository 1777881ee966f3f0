"""Tasks on a dask cluster, handed out one at a time as workers become free.

Every scenario task depends on the same large shared inputs. dask assigns tasks with
dependencies to workers as soon as they are submitted, by where their dependencies live, and
work stealing rebalances them only in part: with 16 scenarios on 2 workers one worker was left
idle for 7 s while the other had two scenarios queued. Keeping only as many tasks in flight as
the cluster has threads lets a worker that finishes take the next scenario at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def submit_as_workers_free(client: Any, items: Sequence[T], submit: Callable[[T], Any]) -> Iterator[tuple[T, Any]]:
    """Yield ``(item, result)`` for every item, at most one task per cluster thread in flight.

    ``submit(item)`` submits the item's task and returns its future. Results come in the order
    the tasks finish. A task's error is raised when its result is reached.

    Examples
    --------
    >>> from distributed import Client
    >>> with Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:  # doctest: +SKIP
    ...     done = dict(submit_as_workers_free(client, [1, 2, 3], lambda x: client.submit(pow, x, 2)))
    >>> done  # doctest: +SKIP
    {1: 1, 2: 4, 3: 9}
    """
    from distributed import as_completed

    slots = max(1, sum(client.nthreads().values()))
    in_flight = {submit(item): item for item in items[:slots]}
    waiting = iter(items[slots:])
    finished = as_completed(list(in_flight))  # type: ignore[no-untyped-call]  # distributed leaves it unannotated
    for fut in finished:
        item = in_flight.pop(fut)
        result = fut.result()
        for nxt in waiting:  # the next item, if any
            new = submit(nxt)
            in_flight[new] = nxt
            finished.add(new)  # type: ignore[no-untyped-call]  # distributed leaves it unannotated
            break
        yield item, result
