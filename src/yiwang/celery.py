"""Celery application.

With no REDIS_URL the settings make every task run eagerly in-process (the embedded default),
so the same ``.delay()`` calls work on a bare machine and on a worker fleet.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")

# A broker outage while publishing is logged, not raised into the request (core/jobs.py).
app = Celery("yiwang", task_cls="yiwang.core.jobs:PublishSafeTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
