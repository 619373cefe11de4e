"""yiwang (一网): an open platform for online government services."""

from .celery import app as celery_app

__all__ = ["celery_app"]
