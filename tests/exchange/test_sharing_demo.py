"""The demo's sharing catalogue: made through the services at the province, idempotent, with
grants (one approved with fewer fields), one pending, one refused by its owner, one refused by
the catalogue and one revoked."""

from __future__ import annotations

import pytest

from tests import factories
from yiwang.exchange import grant_selectors
from yiwang.exchange.demo import ADMINS, RESOURCES, create_demo_sharing
from yiwang.exchange.models import DataResource, Grant, GrantStatus, RequestStatus, ShareRequest


@pytest.fixture
def province(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    regions = factories.region_tree()
    for i, kind in enumerate(sorted(set(ADMINS.values()))):
        factories.department(regions["province"], kind=kind, code=f"{i + 1:03d}")
    return regions["province"]


def test_demo_sharing(province):
    logins = create_demo_sharing("demo-pass")
    assert {u for u, _p, _d in logins} == set(ADMINS)
    assert DataResource.objects.count() == len(RESOURCES)
    assert {r.registry for r in DataResource.objects.all()} >= {
        "population",
        "legal_entity",
        "e_certificate",
        "credit",
    }
    states = sorted(grant_selectors.request_state(r) for r in ShareRequest.objects.all())
    assert states == ["live", "live", "pending", "refused", "refused", "revoked"]
    approved = Grant.objects.get(resource__registry="population")
    assert approved.fields == ["id_number", "name", "birth_date"] and approved.granted_by is not None
    assert Grant.objects.filter(status=GrantStatus.REVOKED).get().revoke_reason
    assert ShareRequest.objects.filter(status=RequestStatus.REFUSED, decided_by__isnull=True).count() == 1
    create_demo_sharing("demo-pass")  # again: nothing added
    assert ShareRequest.objects.count() == 6 and DataResource.objects.count() == len(RESOURCES)
