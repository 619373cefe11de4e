"""The timing loop of the micro-benchmarks that compare a hand-written path with the ORM's
(``row_read.py``, ``json_insert.py``): the median CPU time of this process per call."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def cpu_us(call: Callable[[], object], repeat: int) -> float:
    """Median CPU microseconds of ``call`` over ``repeat`` runs, after a warm-up run."""
    call()
    samples = []
    for _ in range(repeat):
        t = time.process_time_ns()
        call()
        samples.append((time.process_time_ns() - t) / 1000)
    return statistics.median(samples)
