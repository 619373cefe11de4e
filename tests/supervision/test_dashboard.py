"""The live dashboards: their figures equal the rollups, the supervisor's scope, no personal data
on the public page, the server-sent events (WSGI: one event; ASGI: held open), the cache."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.db.models import Q, Sum
from django.test import AsyncClient, Client
from django.urls import reverse
from django.utils import timezone

from tests.cases.conftest import staff, submitted_case
from tests.workbench.helpers import client_for
from yiwang.cases import actions
from yiwang.supervision import dashboard, figures
from yiwang.supervision.models import DailyFigure


@pytest.fixture(autouse=True)
def _no_cached_dashboards():
    cache.clear()
    yield
    cache.clear()


def _cases(world) -> None:
    a = submitted_case(world)
    actions.Accept(a, world.clerk).run()
    submitted_case(world)
    submitted_case(world)


def test_figures_equal_the_rollups(world):
    _cases(world)
    figures.fold()
    data = dashboard.dashboard_data(dashboard.PUBLIC)
    today = DailyFigure.objects.filter(day=timezone.localdate()).aggregate(
        received=Sum("received"), accepted=Sum("accepted"), decided=Sum("decided")
    )
    assert data["today"]["received"] == today["received"] == 3
    assert data["today"]["accepted"] == today["accepted"] == 1
    assert data["today"]["decided"] == 0
    assert data["trend"]["received"][-1] == 3 and len(data["trend"]["days"]) == dashboard.TREND_DAYS
    # the province's cities: the county's cases rank under its city
    assert [a["name"] for a in data["areas"]] == [world.regions["city"].name]
    assert data["areas"][0]["received"] == 3
    assert len(data["events"]) == 3
    assert {e["state"] for e in data["events"]} == {"submitted", "accepted"}


def test_cached_a_few_seconds_with_a_clear_key(world, django_assert_max_num_queries):
    _cases(world)
    figures.fold()
    first = dashboard.dashboard_data(dashboard.PUBLIC, language="zh-hans")
    assert cache.get(dashboard.cache_key(dashboard.PUBLIC, "zh-hans")) == first
    with django_assert_max_num_queries(0):
        assert dashboard.dashboard_data(dashboard.PUBLIC, language="zh-hans") == first
    cache.clear()
    with django_assert_max_num_queries(8):  # the fold of the embedded default, then four reads
        dashboard.dashboard_data(dashboard.PUBLIC, language="zh-hans")


def test_supervisor_sees_only_their_regions(world):
    _cases(world)
    near = staff("sup_near", "supervisor", region=world.regions["county"])
    far = staff("sup_far", "supervisor", region=world.regions["other_city"])
    url = reverse("workbench:dashboard_data")
    mine = client_for(near).get(url).json()
    assert mine["today"]["received"] == 3 and len(mine["events"]) == 3
    assert [a["name"] for a in mine["areas"]] == [world.regions["county"].name]  # a county scope: counties
    theirs = client_for(far).get(url).json()
    assert theirs["today"]["received"] == 0 and theirs["events"] == [] and theirs["areas"] == []
    assert client_for(world.clerk).get(url).status_code == 403
    assert client_for(near).get(reverse("workbench:dashboard")).status_code == 200
    assert Client().get(reverse("workbench:dashboard")).status_code == 302


def test_public_page_has_no_personal_data(world):
    _cases(world)
    case = world.applicant.cases.first()
    html = Client().get(reverse("dashboard:page")).content.decode()
    body = Client().get(reverse("dashboard:data")).content.decode()
    assert "政务服务实时大屏" in html and 'id="kpi-received"' in html
    for text in (html, body):
        assert case.item_name in text
        assert case.applicant_name not in text and case.number not in text
        assert world.applicant.username not in text


def test_stream_under_wsgi_sends_the_figures_once(db):
    r = Client().get(reverse("dashboard:stream"))
    assert r["Content-Type"].startswith("text/event-stream")
    chunks = list(r.streaming_content)
    assert chunks[0].startswith(b"retry: ")
    event = chunks[1].decode()
    assert event.startswith("id: ") and "event: figures\n" in event
    data = json.loads(event.split("data: ", 1)[1])
    assert data["today"]["received"] == 0
    # The browser's Last-Event-ID: unchanged figures are not sent again.
    again = list(
        Client().get(reverse("dashboard:stream"), HTTP_LAST_EVENT_ID=data["version"]).streaming_content
    )
    assert again[1] == b": unchanged\n\n"


def test_stream_under_asgi_yields_an_event_with_the_figures(world, settings):
    from asgiref.sync import async_to_sync

    settings.YIWANG_DASHBOARD_STREAM_SECONDS = 0  # one look, then the end
    _cases(world)

    async def first_chunks() -> tuple[bytes, bytes, bool]:
        # AsyncClient makes an ASGIRequest: the view streams from the async iterator.
        r = await AsyncClient().get(reverse("dashboard:stream"))
        assert r["Content-Type"].startswith("text/event-stream")
        content = r.streaming_content
        retry, event = await anext(content), await anext(content)
        try:
            await anext(content)
            ended = False
        except StopAsyncIteration:
            ended = True
        return retry, event, ended

    retry, event, ended = async_to_sync(first_chunks)()
    assert retry.startswith(b"retry: ") and ended
    data = json.loads(event.decode().split("data: ", 1)[1])
    assert data["today"]["received"] == 3 and len(data["events"]) == 3


def test_scope_key_names_the_scopes(world):
    from yiwang.workbench import selectors

    near = staff("sup_near", "supervisor", region=world.regions["county"])
    scope = selectors.dashboard_scope(near, selectors.work_roles(near))
    assert scope.key.startswith("scope-") and scope.depth == 2
    assert scope.q != Q()
    prov = staff("sup_prov", "supervisor", region=world.regions["province"])
    assert selectors.dashboard_scope(prov, selectors.work_roles(prov)).depth == 1
