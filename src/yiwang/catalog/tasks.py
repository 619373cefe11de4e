"""Celery discovers ``<app>.tasks``; the catalogue's jobs live beside their features."""

from .spreadsheets.tasks import run_import

__all__ = ["run_import"]
