"""Django's PostgreSQL backend with one change: a bulk insert of a few rows is written as
``VALUES (...), (...)`` instead of ``UNNEST`` of one array per column (``compiler.py``)."""
