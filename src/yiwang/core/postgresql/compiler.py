"""Bulk inserts of a few rows as ``VALUES``.

Django 5.2 writes every multi-row bulk insert on PostgreSQL as ``INSERT ... SELECT * FROM
UNNEST(%s::type[], ...)``, so that a statement with many rows is planned quickly. Each column is
then sent as one array, which psycopg builds in Python, escaping every quote and backslash of
every value with a regular expression: for the JSON columns a bundle's unified acceptance
inserts (seven workflow states of 3 KB, seven form snapshots) that took more CPU than the rest of
the INSERT. yiwang prepares its repeated statements (settings ``DB_PREPARED_STATEMENTS``), so
planning a ``VALUES`` list costs nothing after its first runs, and each value is sent as its own
parameter by psycopg's C dumpers. Large batches (the province generator's, the imports') keep
``UNNEST``: one array parameter per column instead of rows × columns parameters.
"""

from __future__ import annotations

from django.db.backends.postgresql.compiler import (
    SQLAggregateCompiler,
    SQLCompiler,
    SQLDeleteCompiler,
    SQLUpdateCompiler,
)
from django.db.backends.postgresql.compiler import SQLInsertCompiler as PostgresInsertCompiler
from django.db.models.sql.compiler import SQLInsertCompiler as BaseInsertCompiler

__all__ = [
    "SQLAggregateCompiler",
    "SQLCompiler",
    "SQLDeleteCompiler",
    "SQLInsertCompiler",
    "SQLUpdateCompiler",
]

# At or below this many rows a bulk insert is a VALUES list.
VALUES_UP_TO_ROWS = 100


class SQLInsertCompiler(PostgresInsertCompiler):
    def assemble_as_sql(self, fields, value_rows):
        if len(value_rows) <= VALUES_UP_TO_ROWS:
            return BaseInsertCompiler.assemble_as_sql(self, fields, value_rows)
        return super().assemble_as_sql(fields, value_rows)
