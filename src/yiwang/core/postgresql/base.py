"""The database backend named by ``ENGINE = "yiwang.core.postgresql"`` (settings.py)."""

from __future__ import annotations

from django.db.backends.postgresql import base

from .operations import DatabaseOperations


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
