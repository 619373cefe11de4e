"""The bundled code list: the districts it lacked, and the entries that are not GB/T 2260 codes."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.identity.auth.helpers import login_with_second_factor
from yiwang.regions import services
from yiwang.regions.models import Region, RegionLevel


def _entries() -> dict[str, services.CodeListEntry]:
    return {e.code: e for e in services.read_code_list()}


def test_added_districts_are_standard():
    entries = _entries()
    for code, name in {
        "500105": "江北区",
        "500112": "渝北区",
        "460302": "西沙区",
        "460303": "南沙区",
    }.items():
        assert entries[code].name == name and entries[code].standard and not entries[code].note


@pytest.mark.parametrize("code", ["990000", "999900", "133100", "320576", "500157", "232761", "710101"])
def test_non_standard_entries_are_marked_with_a_note(code):
    entry = _entries()[code]
    assert not entry.standard and entry.note


def test_every_entry_has_a_flag_and_only_non_standard_ones_a_note():
    entries = services.read_code_list()
    assert len({e.code for e in entries}) == len(entries)
    assert all((not e.standard) == bool(e.note) for e in entries)
    assert {"110000", "350102", "310115", "120116"} <= {e.code for e in entries if e.standard}


@pytest.mark.django_db
def test_loader_places_new_districts_under_their_parents_and_keeps_the_flag():
    services.load_gbt2260("500000")
    chongqing = Region.objects.get(code="500100")
    for code in ("500105", "500112"):
        district = Region.objects.get(code=code)
        assert district.parent == chongqing and district.level == RegionLevel.COUNTY and district.standard
    liangjiang = Region.objects.get(code="500157")
    assert not liangjiang.standard and "功能区" in liangjiang.note
    services.load_gbt2260("460000")
    sansha = Region.objects.get(code="460300")
    assert {r.code for r in sansha.children.all()} >= {"460302", "460303"}
    # A flag changed by hand is put back by the next load (the file is the reference).
    Region.objects.filter(code="500157").update(standard=True, note="")
    services.load_gbt2260("500000")
    assert not Region.objects.get(code="500157").standard


@pytest.mark.django_db
def test_region_admin_shows_and_filters_the_flag(client):
    services.load_gbt2260("500000")
    root = get_user_model().objects.create_superuser("root", password="pw-123456789")
    login_with_second_factor(client, root)
    resp = client.get(reverse("admin:regions_region_changelist"), {"standard__exact": "0"})
    assert resp.status_code == 200
    shown = {r.code for r in resp.context["cl"].result_list}
    assert "500157" in shown and "500105" not in shown
    assert "GB/T 2260 代码" in resp.content.decode()
