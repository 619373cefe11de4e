from __future__ import annotations

import pytest

from yiwang.worktime.selectors import invalidate_calendar


@pytest.fixture(autouse=True)
def _fresh_calendar():
    # Each test's database rolls back at its end; a calendar cached from another test's rows
    # (e.g. an imported 2027) must not leak into the next one.
    invalidate_calendar()
    yield
    invalidate_calendar()
