"""Celery application.

With no REDIS_URL the settings make every task run eagerly in-process (the embedded default),
so the same ``.delay()`` calls work on a bare machine and on a worker fleet.
"""

import os

from celery import Celery
from celery.signals import task_prerun

from yiwang.core.dbcheck import drop_closed_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")

# A broker outage while publishing is logged, not raised into the request (core/jobs.py).
app = Celery("yiwang", task_cls="yiwang.core.jobs:PublishSafeTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect(weak=False, dispatch_uid="yiwang.drop_closed_connections")
def _drop_closed_connections(**kwargs: object) -> None:
    """A job after a database restart opens a new connection instead of failing on the kept one."""
    drop_closed_connections()
