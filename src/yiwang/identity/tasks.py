"""Identity background jobs (run in-process in the embedded default, by Celery workers otherwise)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="identity.retry_backchannel_logout", ignore_result=True)
def retry_backchannel_logout(rp_session_id: int, attempt: int = 1) -> str | None:
    """Resend a logout token a city platform did not accept; backs off, gives up after a few tries."""
    from yiwang.identity.oidc.backchannel import retry

    delivery = retry(rp_session_id, attempt)
    return delivery.status if delivery else None


@shared_task(name="identity.sweep_sessions", ignore_result=True)
def sweep_sessions() -> int:
    """End sessions abandoned past their timeout (relying parties are told) and drop stale
    login counters: the same work as ``yiwang sweep_sessions``, for Celery beat."""
    from yiwang.core.context import ActorContext, reset_actor, set_actor
    from yiwang.identity.authentication import purge_throttles
    from yiwang.identity.sessions import end_expired_sessions

    token = set_actor(ActorContext(label="sweep_sessions", channel="system"))
    try:
        ended = end_expired_sessions()
        purge_throttles()
    finally:
        reset_actor(token)
    return ended
