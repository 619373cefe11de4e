"""Periodic job of the supervision app (CELERY_BEAT_SCHEDULE; ``yiwang sweep_warnings`` for cron)."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task


@shared_task(name="supervision.sweep_warnings", ignore_result=True)
def sweep_warnings(batch_size: int = 500) -> dict:
    from .services import sweep

    return asdict(sweep(batch_size=batch_size))
