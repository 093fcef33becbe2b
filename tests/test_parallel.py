"""One parallel map: input order, the same results for any number of workers."""

from __future__ import annotations

from functools import partial

from rdface_hf._parallel import default_workers, parallel_map


def power(exponent: int, x: int) -> int:
    return x**exponent


def test_results_in_input_order_whatever_the_workers():
    items = list(range(37))
    serial = parallel_map(partial(power, 3), items, workers=1, progress=False)
    pooled = parallel_map(partial(power, 3), items, workers=2, chunksize=3, progress=False)
    assert serial == pooled == [x**3 for x in items]


def test_serial_cleanup_runs_only_in_process():
    calls = []
    parallel_map(abs, [-1, -2], workers=1, progress=False, serial_cleanup=lambda: calls.append("closed"))
    assert calls == ["closed"]
    assert parallel_map(abs, [], workers=4, progress=False) == []
    assert default_workers() >= 1
