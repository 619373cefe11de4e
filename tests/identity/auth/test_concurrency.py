"""The lockout holds across processes: parallel guesses are counted under a row lock, so no more
than the limit get their password checked. PostgreSQL only (SQLite serialises writers anyway)."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.utils import timezone

from yiwang.identity.authentication import ACCOUNT, password_login, throttle_key
from yiwang.identity.models import LoginThrottle

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")


@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_cannot_pass_the_limit():
    user = get_user_model().objects.create_user("zhangsan", password="right-password-1")
    now = timezone.now()
    start = threading.Barrier(12)
    errors: list[str] = []

    def guess(i: int) -> None:
        try:
            start.wait()
            errors.append(password_login(None, "zhangsan", f"wrong-{i}", ip=f"10.0.0.{i}", now=now).error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    row = LoginThrottle.objects.get(scope=ACCOUNT, key_hash=throttle_key(ACCOUNT, f"user:{user.pk}"))
    assert row.failures == 5 and row.locked_until is not None
    checked = [e for e in errors if e == "账号或密码不正确。"]
    assert len(checked) == 4  # the 5th counted guess reports the cool-off it started
    assert len(errors) == 12
