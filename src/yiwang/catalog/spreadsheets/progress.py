"""How far a running import is, for the run's page.

The rows of an import are written in one transaction, which another connection cannot see
until it commits; so the number of rows done lives in the cache (Redis in production, where a
worker imports while the page polls), and the total is written to the ``ImportRun`` before the
transaction starts. With the embedded default the import runs inside the upload request, so
nobody polls a run in progress there.
"""

from __future__ import annotations

from django.core.cache import cache

from yiwang.catalog.models import ImportRun

TTL = 24 * 3600


def _key(run_id: int) -> str:
    return f"catalog.import.progress:{run_id}"


def record_progress(run_id: int, done: int) -> None:
    cache.set(_key(run_id), done, TTL)


def import_progress(run: ImportRun) -> tuple[int, int]:
    """(rows done, data rows in the file) of a run; a finished run is done with every row."""
    if run.finished_at is not None:
        return run.total_rows, run.total_rows
    done = cache.get(_key(run.pk)) or 0
    return min(int(done), run.total_rows), run.total_rows
