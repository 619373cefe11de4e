"""Background jobs of the cases app (run in-process in the embedded default)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="cases.send_outbox", autoretry_for=(), ignore_result=True)
def send_outbox(ids: list[int] | None = None) -> int:
    from .services import send_messages

    return send_messages(ids)


@shared_task(name="cases.issue_notice", ignore_result=True)
def issue_notice(case_id: int, kind: str) -> int:
    from . import notices
    from .models import Case

    return notices.issue(Case.objects.get(pk=case_id), kind).pk
