"""End timed-out sessions (telling relying parties) and drop stale login counters.

Run every few minutes (cron or Celery beat): ``yiwang sweep_sessions``.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from yiwang.core.context import ActorContext, reset_actor, set_actor
from yiwang.identity.authentication import purge_throttles
from yiwang.identity.oidc.validator import purge_used_codes
from yiwang.identity.sessions import end_expired_sessions


class Command(BaseCommand):
    help = (
        "End sessions past their idle or absolute timeout; delete stale login throttle rows and "
        "authorization codes used long enough ago."
    )

    def handle(self, *args, **options) -> None:
        token = set_actor(ActorContext(label="sweep_sessions", channel="cli"))
        try:
            ended = end_expired_sessions()
            purged = purge_throttles()
            codes = purge_used_codes()
        finally:
            reset_actor(token)
        self.stdout.write(
            f"ended {ended} expired session(s), deleted {purged} stale login counter(s)"
            f" and {codes} used authorization code(s)"
        )
