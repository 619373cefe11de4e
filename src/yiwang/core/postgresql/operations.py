from __future__ import annotations

from django.db.backends.postgresql.operations import DatabaseOperations as PostgresOperations


class DatabaseOperations(PostgresOperations):
    compiler_module = "yiwang.core.postgresql.compiler"
