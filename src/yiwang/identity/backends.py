"""Where a signed-in request gets its session and its user: Django's database session store and
model backend, unchanged. The settings name them here (``SESSION_ENGINE``,
``AUTHENTICATION_BACKENDS``) so that sessions and logins made by earlier releases, which
stored this module's path, keep working."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore


class ModelBackend(DjangoModelBackend):
    """Django's ``ModelBackend``: passwords, permissions, ``is_active``."""


class SessionStore(DjangoSessionStore):
    """Django's database session store."""
