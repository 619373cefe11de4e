from __future__ import annotations

import pytest
from django.conf import settings

from yiwang import celery_app


def test_every_scheduled_job_is_a_registered_task():
    celery_app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in celery_app.tasks, entry["task"]


@pytest.mark.django_db
def test_periodic_jobs_run():
    from yiwang.cases.tasks import send_outbox
    from yiwang.identity.tasks import sweep_sessions
    from yiwang.workflow.tasks import sweep_timers_task

    assert sweep_sessions() == 0
    assert sweep_timers_task() == 0
    assert send_outbox() == 0


@pytest.mark.skipif(not settings.CELERY_TASK_ALWAYS_EAGER, reason="the embedded default runs jobs eagerly")
def test_an_eager_job_logs_no_broker_warning(caplog):
    """Celery acquires a producer even for an eager job; kombu warns about a broker URL that
    names no host, once per process, which `make demo` printed on its first load."""
    from kombu import Connection

    with caplog.at_level("WARNING", logger="kombu"):
        Connection(settings.CELERY_BROKER_URL).clone()
    assert not [r for r in caplog.records if r.name.startswith("kombu")]
