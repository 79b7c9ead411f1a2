"""Map a pure tile function over tiles, then reduce — in-process, on a local process pool, or on Dask.

``map_tiles(fn, tiles, common, scheduler=...)`` calls ``fn(tile, common)`` for every tile and returns the
results **in tile-index order**, whatever ran where and finished when; ``map_reduce`` then folds them
left to right in that order. With integer partial results (pixel counts, areas in whole cm²) or floats
folded in this fixed order, the output is byte-identical for every scheduler and worker count.

Schedulers:

* ``"inline"`` — this process, one tile after another (tests, tiny rasters, debugging);
* ``"processes"`` (default) — ``concurrent.futures.ProcessPoolExecutor`` with ``workers`` processes
  (default: all cores). ``common`` is sent once per worker (pool initializer), not once per tile;
* any other string — the address of a running ``dask.distributed`` scheduler (``tcp://host:8786``);
  ``common`` is scattered once (broadcast) and tiles are sent with ``client.map``. gep must be installed
  on the workers. A ``distributed.Client`` object is also accepted.

``fn`` must be a module-level function (picklable); ``common`` and the tiles must be picklable.
``dask.distributed`` is imported only when a cluster is used (it costs ~0.7 s to import).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from gep.errors import InputError, Problem
from gep.spatial.grid import Tile

R = TypeVar("R")
A = TypeVar("A")

INLINE = "inline"
PROCESSES = "processes"

_WORKER_COMMON: Any = None


def _init_worker(common: Any) -> None:
    global _WORKER_COMMON
    _WORKER_COMMON = common


def _call_with_worker_common(fn: Callable[[Tile, Any], R], tile: Tile) -> R:
    return fn(tile, _WORKER_COMMON)


def default_workers() -> int:
    """Worker processes by default: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def map_tiles(fn: Callable[[Tile, Any], R], tiles: Sequence[Tile], common: Any = None, *,
              scheduler: Any = PROCESSES, workers: int | None = None) -> list[R]:
    """``[fn(tile, common) for tile in tiles]`` sorted by ``tile.index``, run by ``scheduler``.

    A single tile, or ``workers == 1``, always runs inline (a pool would only add start-up time).
    """
    ordered = sorted(tiles, key=lambda t: t.index)
    if not ordered:
        return []
    n = workers or default_workers()
    if scheduler in (None, INLINE) or (scheduler == PROCESSES and (len(ordered) == 1 or n == 1)):
        return [fn(t, common) for t in ordered]
    if scheduler == PROCESSES:
        chunk = max(1, len(ordered) // (n * 8))
        with ProcessPoolExecutor(max_workers=min(n, len(ordered)), initializer=_init_worker,
                                 initargs=(common,)) as pool:
            return list(pool.map(_call_with_worker_common, [fn] * len(ordered), ordered, chunksize=chunk))
    return _map_dask(fn, ordered, common, scheduler)


def _map_dask(fn: Callable[[Tile, Any], R], ordered: list[Tile], common: Any, scheduler: Any) -> list[R]:
    # Lazy import: dask.distributed is only needed with --scheduler ADDRESS (documented above).
    from distributed import Client

    own = not isinstance(scheduler, Client)
    try:
        client = Client(scheduler, timeout="20s", set_as_default=False) if own else scheduler
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError([Problem("SCHEDULER_UNREACHABLE", f"cannot connect to the Dask scheduler: {exc}",
                                  value=str(scheduler), expected="the address of a running dask scheduler, "
                                  "e.g. tcp://10.0.0.5:8786, or 'processes' / 'inline'")]) from exc
    try:
        shared = client.scatter(common, broadcast=True, hash=False)
        futures = client.map(fn, ordered, [shared] * len(ordered), pure=False)
        results: list[R] = client.gather(futures)
        return results
    finally:
        if own:
            client.close()


def map_reduce(fn: Callable[[Tile, Any], R], tiles: Sequence[Tile], reduce: Callable[[A, R], A], initial: A,
               common: Any = None, *, scheduler: Any = PROCESSES, workers: int | None = None) -> A:
    """Fold ``reduce(acc, fn(tile, common))`` over the tiles in tile-index order (deterministic)."""
    acc = initial
    for part in map_tiles(fn, tiles, common, scheduler=scheduler, workers=workers):
        acc = reduce(acc, part)
    return acc
