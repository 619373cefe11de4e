"""Identity background jobs (run in-process in the embedded default, by Celery workers otherwise)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="identity.retry_backchannel_logout", ignore_result=True)
def retry_backchannel_logout(rp_session_id: int, attempt: int = 1) -> str | None:
    """Resend a logout token a city platform did not accept; backs off, gives up after a few tries."""
    from yiwang.identity.oidc.backchannel import retry

    delivery = retry(rp_session_id, attempt)
    return delivery.status if delivery else None
