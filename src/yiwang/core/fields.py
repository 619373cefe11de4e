"""Model fields with one documented difference from Django's own."""

from __future__ import annotations

from typing import Any

from django.db import models


class ValuesInsertJSONField(models.JSONField):  # type: ignore[type-arg]
    """A ``JSONField`` whose multi-row ``bulk_create`` on PostgreSQL is a ``VALUES`` list.

    Django 5.2 writes a multi-row insert on PostgreSQL as ``INSERT ... SELECT * FROM
    UNNEST(%s::jsonb[], ...)``, one array parameter per column, so that a statement with many rows
    plans quickly. For a column of large JSON documents (a workflow's state, a form snapshot) the
    driver then builds each array literal in Python, quoting every character of every document;
    a bundle's acceptance inserts seven such rows at once, and ``bench/json_insert.py`` measures
    that array against the ``VALUES`` list. Django keeps ``VALUES`` for any field that has a
    ``get_placeholder`` (``SQLInsertCompiler.assemble_as_sql``), the hook spatial fields use; this
    field's placeholder is the plain ``%s``, so its values are sent exactly as ``JSONField``'s.
    ``tests/core/test_fields.py`` fails if Django stops honouring it. The database column is the
    same ``jsonb`` (``text`` on SQLite); only the insert's shape differs.
    """

    def get_placeholder(self, value: Any, compiler: Any, connection: Any) -> str:
        return "%s"
