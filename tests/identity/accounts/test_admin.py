"""Back office: people, companies, mandates and registries are read-only and masked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from tests.identity.auth.helpers import login_with_second_factor
from yiwang.identity import services
from yiwang.identity.models import LegalEntityRecord, PopulationRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, companies, people):
    root = get_user_model().objects.create_superuser("root", password="Yiwang-root-2026!")
    login_with_second_factor(client, root)
    return client


def test_admin_pages_show_masked_values_only(admin_client, companies, people, registry):
    lin, chen = people[0], people[1]
    now = timezone.now()
    m = services.grant_mandate(
        company=companies[0], by=lin, agent_id_number=services.id_number_of(chen), all_items=True,
        starts_at=now, ends_at=now + dt.timedelta(days=3),
    )  # fmt: skip
    pop = PopulationRecord.objects.first()
    urls = [
        "/admin/identity/person/",
        f"/admin/identity/person/{lin.pk}/change/",
        "/admin/identity/company/",
        f"/admin/identity/company/{companies[0].pk}/change/",
        "/admin/identity/mandate/",
        f"/admin/identity/mandate/{m.pk}/change/",
        "/admin/identity/populationrecord/",
        f"/admin/identity/populationrecord/{pop.pk}/change/",
        "/admin/identity/legalentityrecord/",
    ]
    plain = [p.id_number for p in registry] + [p.phone for p in registry]
    for url in urls:
        resp = admin_client.get(url)
        assert resp.status_code == 200, url
        html = resp.content.decode()
        for value in plain:
            assert value not in html, (url, value)
        assert lin.id_number_cipher not in html and lin.id_number_hash not in html
        assert 'name="_save"' not in html  # read-only: no save button
    assert lin.id_number_masked in admin_client.get("/admin/identity/person/").content.decode()
    assert admin_client.get("/admin/identity/person/add/").status_code == 403
    assert admin_client.post(f"/admin/identity/person/{lin.pk}/delete/", {"post": "yes"}).status_code == 403
    assert LegalEntityRecord.objects.exists()


def test_search_by_full_id_number_goes_through_the_hash(admin_client, people, registry):
    html = admin_client.get("/admin/identity/person/", {"q": registry[1].id_number.lower()}).content.decode()
    # Masked ID numbers of different people may look alike: tell the rows apart by name.
    assert people[1].name in html and people[0].name not in html
    html = admin_client.get("/admin/identity/person/", {"q": registry[0].phone}).content.decode()
    assert people[0].name in html and people[1].name not in html
    html = admin_client.get(
        "/admin/identity/populationrecord/", {"q": registry[2].id_number}
    ).content.decode()
    assert registry[2].name in html and registry[3].name not in html
