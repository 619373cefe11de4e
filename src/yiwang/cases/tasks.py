"""Background jobs of the cases app (run in-process in the embedded default)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import translation


@shared_task(name="cases.send_outbox", autoretry_for=(), ignore_result=True)
def send_outbox(ids: list[int] | None = None) -> int:
    from .services import send_messages

    return send_messages(ids)


@shared_task(name="cases.issue_notice", ignore_result=True)
def issue_notice(case_id: int, kind: str) -> int:
    from . import notices
    from .models import Case

    return notices.issue(Case.objects.get(pk=case_id), kind).pk


@shared_task(name="cases.after_commit", ignore_result=True)
def after_commit(outbox_ids: list[int], notices: list[list], jobs: list[list] | None = None) -> None:
    """What one committed case step left to do (``cases.after_commit``): its messages, then its
    notices (a message lost here is resent by the periodic ``cases.send_outbox``), each drawn in
    the language of the step that named it, then the jobs other apps added
    (``after_commit.also_after_commit``), each a registered task run here. A notice of a case that
    no longer exists (a savepoint rolled back after the notice was named) is skipped. ``jobs`` and
    a notice's language are optional so that messages queued by an older version still run."""
    from celery import current_app

    from . import notices as notice_module
    from .models import Case
    from .services import send_messages

    if outbox_ids:
        send_messages(outbox_ids)
    for case_id, kind, *language in notices:  # no language: a message queued by an older version
        case = Case.objects.filter(pk=case_id).first()
        if case is not None:
            with translation.override(language[0] if language else settings.LANGUAGE_CODE):
                notice_module.issue(case, kind)
    for task_name, args in jobs or ():
        current_app.tasks[task_name](*args)


@shared_task(name="cases.poll_couriers", ignore_result=True)
def poll_couriers(batch_size: int = 100) -> dict:
    """Periodic (CELERY_BEAT_SCHEDULE): carrier statuses of the deliveries in transit."""
    from dataclasses import asdict

    from .courier import poll_deliveries

    return asdict(poll_deliveries(batch_size=batch_size))


@shared_task(name="cases.issue_missing_notices", ignore_result=True)
def issue_missing_notices() -> int:
    """Periodic: the notices recent cases should have and lost with a killed web process."""
    from . import notices

    return notices.issue_missing()
