"""Periodic job of the supervision app (CELERY_BEAT_SCHEDULE; ``yiwang sweep_warnings`` for cron)."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task


@shared_task(name="supervision.sweep_warnings", ignore_result=True)
def sweep_warnings(batch_size: int = 500) -> dict:
    from .services import sweep

    return asdict(sweep(batch_size=batch_size))


@shared_task(name="supervision.escalate_orders", ignore_result=True)
def escalate_orders() -> int:
    from .orders import escalate_overdue

    return escalate_overdue()


@shared_task(name="supervision.rating_jobs", ignore_result=True)
def rating_jobs() -> dict:
    """Reminders for finished cases left unrated and escalation of overdue follow-ups."""
    from .ratings import escalate_overdue, remind_unrated

    escalated = escalate_overdue()
    return {
        "reminded": remind_unrated(),
        "call_escalated": escalated.call,
        "report_escalated": escalated.report,
    }


@shared_task(name="supervision.fold_figures", ignore_result=True)
def fold_figures() -> int:
    from .figures import fold

    return fold()
