"""Who is acting, from where: set per request by middleware, read by the audit log."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any


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


@contextmanager
def acting_as(user: Any) -> Iterator[ActorContext]:
    """The current actor becomes ``user`` (same address and channel) inside the block: a login
    is recorded as the account's action although its request began anonymous."""
    ctx = replace(current_actor(), user_id=user.pk, label=user.get_username())
    token = set_actor(ctx)
    try:
        yield ctx
    finally:
        reset_actor(token)
