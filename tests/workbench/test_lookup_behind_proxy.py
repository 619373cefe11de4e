"""The public lookup's limit counts each person's address, also behind the load balancer."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.cases.conftest import submitted_case

pytestmark = pytest.mark.django_db


def _lookups(client, case, address: str, n: int) -> list[int]:
    url = reverse("portal:case_lookup")
    params = {"number": case.number, "code": case.check_code}
    return [client.get(url, params, HTTP_X_FORWARDED_FOR=address).status_code for _ in range(n)]


def test_limit_is_per_forwarded_address_behind_a_trusted_proxy(world, client, settings):
    settings.YIWANG_TRUST_PROXY = True
    cache.clear()
    case = submitted_case(world)
    # Every request comes from the balancer's REMOTE_ADDR; the person is in X-Forwarded-For.
    assert _lookups(client, case, "10.1.1.1", 11) == [200] * 10 + [429]
    assert _lookups(client, case, "10.2.2.2", 1) == [200]
    cache.clear()


def test_forwarded_address_is_ignored_without_a_trusted_proxy(world, client, settings):
    settings.YIWANG_TRUST_PROXY = False
    cache.clear()
    case = submitted_case(world)
    # A client cannot escape the limit by sending a new X-Forwarded-For each time.
    statuses = [_lookups(client, case, f"10.3.3.{i}", 1)[0] for i in range(11)]
    assert statuses == [200] * 10 + [429]
    cache.clear()
