"""Where a signed-in request gets its session and its user: Django's database session store
(the session store without Redis; settings.py) and model backend, each reading its row with a
statement compiled once per connection (``core.rows.read_rows``). Every signed-in page makes both
reads before its view starts, and both are the same one-row lookup by key each time, so building
their SQL anew on every request would be work without a purpose."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.utils import timezone

from yiwang.core.rows import read_rows


class ModelBackend(DjangoModelBackend):
    """Django's ``ModelBackend`` (passwords, permissions, ``is_active``), with ``get_user`` read
    by a prepared statement."""

    def get_user(self, user_id: Any):
        users = read_rows(get_user_model(), user_id, by="pk")
        return users[0] if users and self.user_can_authenticate(users[0]) else None


class SessionStore(DjangoSessionStore):
    """Django's database session store; the session row is read by a prepared statement and
    its expiry checked here (the ORM's ``expire_date__gt=now()`` made the statement new every
    time). A missing or expired session is an empty one, as in Django."""

    def _get_session_from_db(self):
        rows = read_rows(self.model, self.session_key, by="session_key") if self.session_key else []
        if rows and rows[0].expire_date > timezone.now():
            return rows[0]
        self._session_key = None
        return None
