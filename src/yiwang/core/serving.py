"""Settings of a process that serves requests (``yiwang.wsgi``), made once when it starts."""

from __future__ import annotations

import gc
import os


def tune_garbage_collector() -> None:
    """Fewer, cheaper garbage collections in a web process. A page allocates tens of thousands
    of short-lived objects (template nodes' output, ORM rows, query parts), so with CPython's
    default threshold of 700 the youngest generation is collected dozens of times a request;
    a higher threshold lets most of them die by reference counting first. ``gc.freeze()`` moves
    what the process loaded at start (Django, the URL patterns, the templates' modules) out of
    every later collection's walk. Cycles are still collected. ``YIWANG_GC_THRESHOLD=0`` keeps
    CPython's defaults."""
    threshold = int(os.environ.get("YIWANG_GC_THRESHOLD", "50000"))
    if threshold <= 0:
        return
    gc.freeze()
    first, second, third = gc.get_threshold()
    gc.set_threshold(threshold, second, third)
