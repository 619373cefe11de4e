"""Periodic jobs of the core app."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="core.republish_jobs", autoretry_for=(), ignore_result=True)
def republish_jobs() -> int:
    """Publish the jobs kept while the broker was down (core.jobs.DeferredJob)."""
    from .jobs import republish

    return republish()
