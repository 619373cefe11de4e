"""Who is acting, from where: set per request by middleware, read by the audit log."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class ActorContext:
    user_id: int | None = None
    label: str = "system"
    ip: str = ""
    channel: str = "system"  # web, api, admin, cli, system


SYSTEM = ActorContext()
_current: contextvars.ContextVar[ActorContext | None] = contextvars.ContextVar("yiwang_actor", default=None)


def current_actor() -> ActorContext:
    return _current.get() or SYSTEM


def set_actor(ctx: ActorContext) -> contextvars.Token:
    return _current.set(ctx)


def reset_actor(token: contextvars.Token) -> None:
    _current.reset(token)
