"""Publishing a background job never fails or stalls the request that asked for it (issue 6).

Jobs are published after the commit (``transaction.on_commit``): the person's change is already
saved when the broker is asked. If Redis is down at that moment, Celery would retry for seconds
and then raise out of the commit hook, turning a saved submission into a 500 page. Here the
publish gets short timeouts (settings: ``CELERY_BROKER_CONNECTION_TIMEOUT``,
``CELERY_TASK_PUBLISH_RETRY_POLICY``) and a failure is logged, not raised: the periodic jobs
pick the work up again when Redis is back (``cases.send_outbox`` sends every unsent outbox
message; docs/deployment.md "Failure behaviour" lists what each job does on a lost publish).
A job that finds the database down is retried (about 2, 4, 8 ... 60 s later), not dropped.
"""

from __future__ import annotations

import logging

from celery import Task
from django.db.utils import InterfaceError as DatabaseInterfaceError
from django.db.utils import OperationalError as DatabaseOperationalError
from kombu.exceptions import OperationalError

log = logging.getLogger("yiwang.jobs")


class PublishSafeTask(Task):
    """Celery's Task whose ``delay``/``apply_async`` log a broker outage instead of raising, and
    whose runs wait out a database outage (PostgreSQL restarting) by retrying with backoff
    instead of failing for good. A task that names its own ``autoretry_for`` keeps it."""

    autoretry_for = (DatabaseOperationalError, DatabaseInterfaceError)
    retry_backoff = 2
    retry_backoff_max = 60
    max_retries = 8

    def apply_async(
        self, args=None, kwargs=None, task_id=None, producer=None, link=None, link_error=None, **options
    ):
        try:
            return super().apply_async(args, kwargs, task_id, producer, link, link_error, **options)
        except OperationalError as exc:
            log.warning(
                "job %s not published, broker unavailable (%s); left for the periodic resend", self.name, exc
            )
            return None
