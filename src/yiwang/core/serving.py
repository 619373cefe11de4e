"""Settings of a process that serves requests (``yiwang.wsgi``), made once when it starts."""

from __future__ import annotations

import gc

from django.conf import settings


def tune_garbage_collector() -> None:
    """Fewer, cheaper garbage collections in a web process (``YIWANG_GC_THRESHOLD``). A page
    allocates tens of thousands of short-lived objects (template nodes' output, ORM rows, query
    parts), so with CPython's default threshold of 700 the youngest generation is collected many
    times a request; a higher threshold lets most of them die by reference counting first.
    ``gc.freeze()`` moves what the process loaded at start (Django, the URL patterns, the
    templates' modules) out of every later collection's walk. Cycles are still collected. A
    threshold of 0 or less keeps CPython's defaults."""
    threshold = int(settings.YIWANG_GC_THRESHOLD)
    if threshold <= 0:
        return
    gc.freeze()
    _, second, third = gc.get_threshold()
    gc.set_threshold(threshold, second, third)
