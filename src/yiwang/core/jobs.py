"""Publishing a background job never fails or stalls the request that asked for it (issue 6).

Jobs are published after the commit (``transaction.on_commit``): the person's change is already
saved when the broker is asked. If Redis is down at that moment, Celery would retry for seconds
and then raise out of the commit hook, turning a saved submission into a 500 page. Here the
publish gets short timeouts (settings: ``CELERY_BROKER_CONNECTION_TIMEOUT``,
``CELERY_TASK_PUBLISH_RETRY_POLICY``) and a failure neither raises nor loses the job: it is
written to the database (``DeferredJob``) and the periodic job ``core.republish_jobs`` publishes
it when Redis is back (docs/deployment.md "Failure behaviour").
A job that finds the database down is retried (about 2, 4, 8 ... 60 s later), not dropped.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import Task
from django.db import transaction
from django.db.utils import DatabaseError
from django.db.utils import InterfaceError as DatabaseInterfaceError
from django.db.utils import OperationalError as DatabaseOperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError

log = logging.getLogger("yiwang.jobs")

REPUBLISH_BATCH = 500


class PublishSafeTask(Task):
    """Celery's Task whose ``delay``/``apply_async`` keep the job in the database when the broker
    is down instead of raising, and whose runs wait out a database outage (PostgreSQL
    restarting) by retrying with backoff instead of failing for good. A task that names its
    own ``autoretry_for`` keeps it."""

    autoretry_for = (DatabaseOperationalError, DatabaseInterfaceError)
    retry_backoff = 2
    retry_backoff_max = 60
    retry_jitter = False  # 2, 4, 8 ... 60 s: a restart takes seconds, the jobs are few
    max_retries = 8

    def apply_async(
        self, args=None, kwargs=None, task_id=None, producer=None, link=None, link_error=None, **options
    ):
        try:
            return super().apply_async(args, kwargs, task_id, producer, link, link_error, **options)
        except OperationalError as exc:
            defer(self.name, args, kwargs, options, exc)
            return None


def _when(options: dict[str, Any]) -> dt.datetime | None:
    if options.get("eta"):
        return options["eta"]
    if options.get("countdown"):
        return timezone.now() + dt.timedelta(seconds=float(options["countdown"]))
    return None


def defer(name: str, args, kwargs, options: dict[str, Any], exc: Exception) -> None:
    """Keep a job whose publish failed; a failure here too (database down as well) is logged."""
    from .models import DeferredJob

    eta = _when(options)
    payload = dict(kwargs or {})
    try:
        DeferredJob.objects.create(
            task=name,
            args=list(args or []),
            kwargs=payload,
            eta=eta,
            error=f"{type(exc).__name__}: {exc}"[:300],
        )
    except DatabaseError as db_exc:
        log.error("job %s lost: broker unavailable (%s) and database unavailable (%s)", name, exc, db_exc)
        return
    log.warning("job %s not published, broker unavailable (%s); kept for core.republish_jobs", name, exc)


def republish(*, limit: int = REPUBLISH_BATCH) -> int:
    """Publish the kept jobs again, oldest first; returns how many went out. Stops at the first
    broker failure (the rest stay for the next run). Rows are claimed with SKIP LOCKED, so two
    beat runs never publish the same job twice."""
    from celery import current_app

    from .models import DeferredJob

    sent = 0
    while sent < limit:
        with transaction.atomic():
            job = DeferredJob.objects.select_for_update(skip_locked=True).order_by("pk").first()
            if job is None:
                break
            eta = job.eta if job.eta and job.eta > timezone.now() else None
            try:
                # send_task, not the task's apply_async: a failure must raise here, not defer again.
                current_app.send_task(job.task, args=job.args, kwargs=job.kwargs, eta=eta)
            except OperationalError as exc:
                log.warning("broker still unavailable (%s); %s jobs wait", exc, DeferredJob.objects.count())
                break
            job.delete()
            sent += 1
    return sent
