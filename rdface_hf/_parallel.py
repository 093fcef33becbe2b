"""One parallel map with a progress bar, for every stage that works per image.

Workers are *spawned* processes: MediaPipe's threads do not survive ``fork``.
Results come back in input order, so output never depends on the number of
workers.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS / Windows
        return max(1, os.cpu_count() or 1)


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A spawn-based process pool."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def parallel_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    workers: int | None = None,
    chunksize: int = 4,
    desc: str = "",
    unit: str = "img",
    progress: bool = True,
    serial_cleanup: Callable[[], None] | None = None,
) -> list[R]:
    """``[fn(x) for x in items]`` over ``workers`` processes, with a progress bar.

    ``fn`` must be picklable (a module-level function or a ``functools.partial``
    of one). With one worker, or work for fewer than two chunks, it runs in
    this process and then calls ``serial_cleanup`` (for example to close
    per-process MediaPipe tasks, which cannot be closed at interpreter exit).
    """
    items = list(items)
    workers = default_workers() if workers is None else workers
    workers = min(workers, math.ceil(len(items) / max(chunksize, 1)))
    with tqdm(total=len(items), desc=desc, unit=unit, disable=not progress) as bar:
        if workers <= 1:
            try:
                results = []
                for item in items:
                    results.append(fn(item))
                    bar.update(1)
                return results
            finally:
                if serial_cleanup is not None:
                    serial_cleanup()
        with process_pool(workers) as pool:
            results = []
            for result in pool.map(fn, items, chunksize=chunksize):
                results.append(result)
                bar.update(1)
            return results
