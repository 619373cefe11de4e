"""The exchange API for department systems, reading the real base registries (records written
through ``registries.upsert`` by the owner's data administrator): a real OAuth client (client credentials at the
token endpoint), the grant matrix through the API (refused, nothing returned, logged as
refused), idempotent request ids (one entry, one read), bulk of 1,000, change feed paging,
the per-client rate limit, a registry that fails, the figures, the clients' page."""

from __future__ import annotations

import datetime as dt
import json
import types
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories
from tests.exchange.sharing_world import PASSWORD, resource_input, sharing, staff  # noqa: F401
from yiwang.core.models import AuditEntry
from yiwang.exchange import answering, catalogue, clients, grants, log, registries
from yiwang.exchange.models import ExchangeAnswer, ExchangeClient, ExchangeLogEntry, Grant, RegistryRecord
from yiwang.identity.models import Role
from yiwang.identity.synthetic import make_credit_code

PURPOSE = "户籍迁入核验"
CLIENT_HASHER = "yiwang.identity.oidc.hashers.ClientSecretHasher"
GRANTED = ["credit_code", "name", "legal_representative"]


def company(n: int) -> dict[str, Any]:
    """One legal-entity record with a credit code whose check characters are right."""
    return {
        "credit_code": make_credit_code("350102", f"MA{n:06d}"),
        "name": f"鼓楼区测试{n}号有限公司",
        "entity_type": "llc",
        "legal_representative": f"法人代表{n}",
        "registered_capital": "100",
        "address": f"鼓楼区五四路{n}号",
        "established_on": "2020-01-02",
        "status": "active",
        "region_code": "350102",
    }


CODE1 = company(1)["credit_code"]
ABSENT = make_credit_code("350102", "MA999999")  # valid, never written


class RegistrySpy:
    """A spy on the real base registries (exchange.registries): every call DELEGATES to the
    module; it only counts reads and, when ``fail`` is set, raises before delegating. Used for
    "nothing was read for a refusal" and the 503 fault test; no other test needs it."""

    def __init__(self) -> None:
        self.REGISTRIES = registries.REGISTRIES
        self.reads = 0
        self.fail = False

    def lookup(self, registry: str, subjects: list[str], fields: list[str]) -> dict[str, list[dict]]:
        self.reads += 1
        if self.fail:
            raise ConnectionError("registry down")
        return registries.lookup(registry, subjects, fields)

    def changes(self, registry: str, since: int, limit: int, fields: list[str]):
        self.reads += 1
        if self.fail:
            raise ConnectionError("registry down")
        return registries.changes(registry, since, limit, fields)


@pytest.fixture
def spy(monkeypatch) -> RegistrySpy:
    s = RegistrySpy()
    monkeypatch.setattr(answering, "_registries", lambda: s)
    return s


def registry_owner(regions: dict) -> tuple[Any, Any]:
    """The province's market-regulation bureau (``registries.owner_department`` of the
    legal-entity registry) and its data administrator, who publishes the resource and writes
    the registry: the resource's owner is the registry's owner."""
    dept = factories.department(regions["province"], name="福建省市场监督管理局")
    admin = staff("registry_admin", Role.DATA_ADMIN, department=dept)
    assert registries.owner_department("legal_entity") == dept
    return dept, admin


def write(dept, admin, rows: list[dict[str, Any]]) -> registries.UpsertResult:
    result = registries.upsert("legal_entity", rows, department=dept, actor=admin)
    assert result.ok, result.errors
    return result


@pytest.fixture
def world(sharing, settings):  # noqa: F811
    settings.YIWANG_EXCHANGE_RATE = "10000/m"
    settings.PASSWORD_HASHERS = [*settings.PASSWORD_HASHERS, CLIENT_HASHER]
    dept, admin = registry_owner(sharing.regions)
    write(dept, admin, [company(n) for n in range(1, 4)])
    resource = catalogue.register(admin, dept, resource_input("unconditional"))
    req = grants.request_share(
        sharing.consumer_admin,
        resource.pk,
        consumer=sharing.consumer,
        fields=GRANTED,
        purpose=PURPOSE,
        legal_basis="《户口登记条例》",
        items=[],
        starts_on=timezone.localdate() - dt.timedelta(days=1),
        ends_on=timezone.localdate() + dt.timedelta(days=30),
    )
    new = clients.create_client(sharing.consumer_admin, sharing.consumer, name="户籍业务系统")
    return types.SimpleNamespace(
        s=sharing, resource=resource, grant=req.grant, new=new, dept=dept, admin=admin
    )


def stored(credit_code: str) -> RegistryRecord:
    return RegistryRecord.objects.get(
        registry="legal_entity",
        subject_hash=registries.REGISTRIES["legal_entity"].subject_hash(credit_code),
        valid_until__isnull=True,
    )


def _token(w, client: Client | None = None) -> str:
    c = client or Client()
    r = c.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "exchange"},
        HTTP_AUTHORIZATION=_basic(w.new.client_id, w.new.client_secret),
    )
    assert r.status_code == 200, r.content
    return r.json()["access_token"]


def _basic(cid: str, secret: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{cid}:{secret}".encode()).decode()


def _post(token: str, path: str, body: dict, **headers) -> Any:
    return Client().post(
        f"/api/exchange/{path}",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        **headers,
    )


def _lookup(w, token: str, rid: str, **kw) -> Any:
    body = {
        "resource": w.resource.code,
        "subject": CODE1,
        "fields": ["name", "credit_code"],
        "purpose": PURPOSE,
        "case_number": "SL2026000001",
        "request_id": rid,
    } | kw
    return _post(token, "lookup", body)


# --- tokens and clients -------------------------------------------------------------------------


def test_client_credentials_token_then_a_lookup_returns_only_granted_fields(world):
    token = _token(world)
    r = _lookup(world, token, "r-1")
    assert r.status_code == 200, r.content
    data = r.json()
    record = stored(CODE1)
    assert data["records"] == [
        {
            "_version": 1,
            "_valid_from": record.valid_from.isoformat(),
            "name": "鼓楼区测试1号有限公司",
            "credit_code": CODE1,
        }
    ]
    assert record.data_public["name"] == "鼓楼区测试1号有限公司"
    # Stored, even granted, but not asked for: not sent; not granted: not sent either.
    assert "法人代表1" not in r.content.decode() and "五四路" not in r.content.decode()
    e = ExchangeLogEntry.objects.get()
    assert (e.outcome, e.records, e.grant_id, e.case_number) == (
        "answered",
        1,
        world.grant.pk,
        "SL2026000001",
    )
    assert e.client_id == world.new.client_id and e.consumer_id == world.s.consumer.pk
    assert CODE1 not in json.dumps(log.entry_fields(e))
    kept = ExchangeAnswer.objects.get()
    assert CODE1 not in kept.body_cipher  # the kept answer is encrypted


def test_a_sensitive_granted_field_is_decrypted_and_an_absent_subject_has_no_records(world):
    token = _token(world)
    r = _lookup(world, token, "s-1", fields=["legal_representative"])
    assert r.status_code == 200, r.content
    assert [set(x) for x in r.json()["records"]] == [{"_version", "_valid_from", "legal_representative"}]
    assert r.json()["records"][0]["legal_representative"] == "法人代表1"
    assert stored(CODE1).data_cipher and "法人代表1" not in stored(CODE1).data_cipher
    r = _lookup(world, token, "s-2", subject=ABSENT)
    assert r.status_code == 200 and r.json()["records"] == []
    assert ExchangeLogEntry.objects.get(request_id="s-2").records == 0


def test_a_new_version_in_the_registry_is_the_next_answer(world):
    token = _token(world)
    write(world.dept, world.admin, [company(1) | {"name": "鼓楼区改名有限公司"}])
    r = _lookup(world, token, "v-1")
    assert r.json()["records"][0]["name"] == "鼓楼区改名有限公司"
    assert r.json()["records"][0]["_version"] == 2


def test_no_token_bad_token_and_a_city_portal_token_are_refused(world):
    assert _post("", "lookup", {}).status_code == 401
    r = _post("nonsense", "lookup", {})
    assert r.status_code == 401 and r.json()["code"] == "invalid_token"
    assert r["WWW-Authenticate"].startswith("Bearer")
    assert not ExchangeLogEntry.objects.exists()


def test_the_secret_is_shown_once_and_stored_hashed(world):
    app = world.new.client.application
    assert app.client_secret != world.new.client_secret
    assert app.authorization_grant_type == "client-credentials"
    assert AuditEntry.objects.filter(action="exchange.client.create").exists()


def test_only_the_departments_data_admin_creates_and_revokes(world):
    from yiwang.core.errors import NotPermitted

    with pytest.raises(NotPermitted):
        clients.create_client(world.s.owner_admin, world.s.consumer, name="x")
    with pytest.raises(NotPermitted):
        clients.revoke_client(world.s.far_admin, world.new.client.pk)


def test_a_revoked_client_gets_no_token_and_its_tokens_stop(world):
    token = _token(world)
    assert _lookup(world, token, "r-0").status_code == 200  # the token's client is now cached
    assert clients.cached_client(token) is not None
    clients.revoke_client(world.s.consumer_admin, world.new.client.pk)
    assert clients.cached_client(token) is None
    assert _lookup(world, token, "r-1").status_code == 401
    r = Client().post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "exchange"},
        HTTP_AUTHORIZATION=_basic(world.new.client_id, world.new.client_secret),
    )
    assert r.status_code == 401


# --- the grant matrix ---------------------------------------------------------------------------


def _refused(w, r, code: str) -> None:
    assert r.status_code == 403, r.content
    body = r.json()
    assert body["code"] == code and body["detail"]
    assert "records" not in body and "results" not in body and "changes" not in body
    e = ExchangeLogEntry.objects.order_by("-pk").first()
    assert e.outcome == "refused" and e.reason == code and e.records == 0


def test_grant_matrix_through_the_api(world, spy):
    token = _token(world)
    assert _lookup(world, token, "m-0").status_code == 200
    reads = spy.reads
    assert reads == 1
    _refused(world, _lookup(world, token, "m-1", fields=["name", "address"]), "field_not_granted")
    _refused(world, _lookup(world, token, "m-2", purpose="别的用途"), "wrong_purpose")
    _refused(world, _lookup(world, token, "m-3", resource="350000-99999"), "unknown_resource")
    Grant.objects.filter(pk=world.grant.pk).update(ends_on=timezone.localdate() - dt.timedelta(days=1))
    _refused(world, _lookup(world, token, "m-4"), "expired")
    Grant.objects.filter(pk=world.grant.pk).update(ends_on=timezone.localdate() + dt.timedelta(days=3))
    grants.revoke(world.admin, world.grant.pk, reason="停止共享")
    _refused(world, _lookup(world, token, "m-5"), "revoked")
    Grant.objects.all().delete()
    _refused(world, _lookup(world, token, "m-6"), "no_grant")
    assert spy.reads == reads  # nothing was read for a refusal


def test_refusal_in_english(world):
    token = _token(world)
    r = _lookup(world, token, "en-1", purpose="别的用途")
    assert r.json()["detail"] == "所述用途与授权用途不符。"


# --- idempotency, bulk, feed, rate limit, faults --------------------------------------------------


def test_the_same_request_id_returns_the_first_answer_without_a_second_read(world):
    token = _token(world)
    first = _lookup(world, token, "same-1")
    # The registry changes after the first answer: a second read would show the new name.
    write(world.dept, world.admin, [company(1) | {"name": "鼓楼区改名有限公司"}])
    with CaptureQueriesContext(connection) as queries:
        again = _lookup(world, token, "same-1", subject=company(2)["credit_code"])
    assert again.content == first.content and again["X-Request-Replayed"] == "true"
    assert "鼓楼区测试1号有限公司" in again.content.decode()
    assert not [q for q in queries.captured_queries if "exchange_registryrecord" in q["sql"]]
    assert ExchangeLogEntry.objects.filter(request_id="same-1").count() == 1
    # The header works as well as the field.
    r = _post(
        token,
        "lookup",
        {
            "resource": world.resource.code,
            "subject": CODE1,
            "fields": ["name"],
            "purpose": PURPOSE,
            "case_number": "X1",
        },
        HTTP_X_REQUEST_ID="hdr-1",
    )
    assert r.status_code == 200 and ExchangeLogEntry.objects.filter(request_id="hdr-1").exists()
    missing = _post(
        token,
        "lookup",
        {
            "resource": world.resource.code,
            "subject": CODE1,
            "fields": ["name"],
            "purpose": PURPOSE,
            "case_number": "X1",
        },
    )
    assert missing.status_code == 422 and missing.json()["code"] == "request_id_missing"


def test_a_kept_answer_past_its_day_is_gone_and_the_id_stays_spent(world):
    token = _token(world)
    _lookup(world, token, "old-1")
    ExchangeAnswer.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert answering.purge_answers() == 1
    r = _lookup(world, token, "old-1")
    assert r.status_code == 409 and r.json()["code"] == "request_id_reused"
    assert ExchangeLogEntry.objects.filter(request_id="old-1").count() == 1


def test_bulk_of_1000_is_one_read_and_one_entry_1001_refused(world):
    token = _token(world)
    write(world.dept, world.admin, [company(n) for n in range(4, 1000)])  # one batch: 1..999 stored
    subjects = [company(n)["credit_code"] for n in range(1, 1000)] + [ABSENT]
    body = {
        "resource": world.resource.code,
        "subjects": subjects,
        "fields": ["name", "legal_representative"],
        "purpose": PURPOSE,
        "case_number": "SL2026000002",
        "request_id": "bulk-1",
    }
    with CaptureQueriesContext(connection) as queries:
        r = _post(token, "lookup/bulk", body)
    assert r.status_code == 200, r.content
    data = r.json()
    assert len(data["results"]) == 1000 and data["found"] == 999
    assert data["results"][-1] == {"subject": ABSENT, "records": []}
    for n, result in enumerate(data["results"][:-1], start=1):
        (record,) = result["records"]
        assert result["subject"] == company(n)["credit_code"]
        assert (record["name"], record["legal_representative"]) == (company(n)["name"], f"法人代表{n}")
        assert set(record) == {"_version", "_valid_from", "name", "legal_representative"}
    # One read of the registry table for the 1,000 subjects.
    assert len([q for q in queries.captured_queries if "exchange_registryrecord" in q["sql"]]) == 1
    e = ExchangeLogEntry.objects.get(request_id="bulk-1")
    assert (e.subjects, e.records) == (1000, 999)
    _refused(
        world,
        _post(token, "lookup/bulk", body | {"subjects": subjects + ["X"], "request_id": "bulk-2"}),
        "too_many_subjects",
    )


def test_change_feed_pages_with_the_cursor(world):
    token = _token(world)
    write(world.dept, world.admin, [company(n) for n in range(4, 26)])
    renamed = [company(n) | {"name": f"鼓楼区改名{n}号有限公司"} for n in (2, 7, 20)]
    write(world.dept, world.admin, renamed)  # each: the old version closes, a new one opens
    expected = list(
        RegistryRecord.objects.filter(registry="legal_entity")
        .order_by("change_seq")
        .values_list("change_seq", flat=True)
    )
    assert len(expected) == 25 + 3 and registries.counters()["legal_entity"].last_seq == 31
    c = Client()
    seen: list[dict[str, Any]] = []
    since, page = 0, 0
    while True:
        page += 1
        r = c.get(
            "/api/exchange/changes",
            {
                "resource": world.resource.code,
                "fields": "name",
                "purpose": PURPOSE,
                "since": since,
                "limit": 10,
            },
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_X_REQUEST_ID=f"feed-{page}",
        )
        assert r.status_code == 200, r.content
        data = r.json()
        assert all({k for k in row if not k.startswith("_")} == {"name"} for row in data["changes"])
        assert data["since"] == since
        seen += data["changes"]
        since = data["next_cursor"]
        if not data["has_more"]:
            break
    # Every row's change number, in order, to the end; then nothing more. A closed version
    # carries the number of its closing (26, 28, 30), so 2, 7 and 20 are not seen twice.
    assert [row["_seq"] for row in seen] == expected == sorted(set(range(1, 32)) - {2, 7, 20})
    assert page == 3 and since == 31
    assert ExchangeLogEntry.objects.filter(request_id__startswith="feed-").count() == 3
    ops = [(row["_op"], row["name"]) for row in seen if row["_seq"] > 25]
    assert ops == [
        ("close", "鼓楼区测试2号有限公司"),
        ("upsert", "鼓楼区改名2号有限公司"),
        ("close", "鼓楼区测试7号有限公司"),
        ("upsert", "鼓楼区改名7号有限公司"),
        ("close", "鼓楼区测试20号有限公司"),
        ("upsert", "鼓楼区改名20号有限公司"),
    ]
    last = c.get(
        "/api/exchange/changes",
        {"resource": world.resource.code, "fields": "name", "purpose": PURPOSE, "since": since},
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_X_REQUEST_ID="feed-end",
    ).json()
    assert (last["changes"], last["next_cursor"], last["has_more"]) == ([], 31, False)
    r = c.get(
        "/api/exchange/changes",
        {"resource": world.resource.code, "fields": "name,address", "purpose": PURPOSE},
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_X_REQUEST_ID="feed-x",
    )
    _refused(world, r, "field_not_granted")


def test_per_client_rate_limit_answers_429_with_retry_after(world):
    ExchangeClient.objects.filter(pk=world.new.client.pk).update(rate_limit="2/m")
    token = _token(world)
    assert _lookup(world, token, "rl-1").status_code == 200
    assert _lookup(world, token, "rl-2").status_code == 200
    r = _lookup(world, token, "rl-3")
    assert r.status_code == 429 and r.json()["code"] == "rate_limited" and int(r["Retry-After"]) >= 1
    assert not ExchangeLogEntry.objects.filter(request_id="rl-3").exists()


def test_a_failing_registry_is_503_logged_failed_and_nothing_returned(world, spy):
    token = _token(world)
    spy.fail = True
    r = _lookup(world, token, "f-1")
    assert r.status_code == 503 and r.json()["code"] == "registry_unavailable"
    assert "records" not in r.json()
    e = ExchangeLogEntry.objects.get(request_id="f-1")
    assert e.outcome == "failed" and e.records == 0
    assert _lookup(world, token, "f-1").status_code == 503  # one answer per request id
    assert ExchangeLogEntry.objects.filter(request_id="f-1").count() == 1


# --- figures ------------------------------------------------------------------------------------


def test_figures_after_sealing(world):
    token = _token(world)
    _lookup(world, token, "fg-1")
    _lookup(world, token, "fg-2", purpose="别的用途")
    log.seal_pending()
    r = Client().get("/api/exchange/figures")
    assert r.status_code == 200
    data = r.json()
    row = data["rows"][0]
    assert (row["registry"], row["exchanged"], row["answered"], row["refused"]) == ("legal_entity", 1, 1, 1)
    total = data["totals"][0]
    assert total["registry"] == "legal_entity" and total["exchanged"] == 1


def test_figures_page_for_data_admins_and_supervisors(world):
    c = Client()
    sup = staff("sup", Role.SUPERVISOR)
    c.force_login(sup)
    assert c.get("/workbench/exchange/figures/").status_code == 200
    clerk = Client()
    clerk.force_login(world.s.clerk)
    assert clerk.get("/workbench/exchange/figures/").status_code == 403


def test_clients_page_shows_the_secret_once_and_revokes(world):
    c = Client()
    c.force_login(world.s.consumer_admin)
    page = c.get("/workbench/exchange/clients/")
    assert page.status_code == 200 and world.new.client_id in page.content.decode()
    r = c.post(
        "/workbench/exchange/clients/",
        {"department": world.s.consumer.pk, "name": "户政二期", "rate_limit": ""},
    )
    assert r.status_code == 200
    html = r.content.decode()
    made = ExchangeClient.objects.get(name="户政二期")
    assert made.application.client_id in html and "client_secret" in html
    again = c.get("/workbench/exchange/clients/").content.decode()
    assert "client_secret" not in again
    bad = c.post("/workbench/exchange/clients/", {"department": world.s.consumer.pk, "name": ""})
    assert bad.status_code == 400 and "请填写系统名称" in bad.content.decode()
    c.post(f"/workbench/exchange/clients/{made.pk}/revoke/")
    made.refresh_from_db()
    assert made.revoked_at is not None
    other = Client()
    other.force_login(world.s.far_admin)
    assert other.post(f"/workbench/exchange/clients/{world.new.client.pk}/revoke/").status_code == 403


# --- a real OAuth client over HTTP ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_authlib_client_credentials_against_the_live_server(live_server, settings):
    from authlib.integrations.requests_client import OAuth2Session

    settings.YIWANG_EXCHANGE_RATE = "10000/m"
    settings.PASSWORD_HASHERS = [*settings.PASSWORD_HASHERS, CLIENT_HASHER]
    regions = factories.region_tree()
    owner, owner_admin = registry_owner(regions)
    write(owner, owner_admin, [company(1)])
    consumer = factories.department(regions["county"], kind="gaj", code="002")
    consumer_admin = staff("c_admin", Role.DATA_ADMIN, department=consumer)
    resource = catalogue.register(owner_admin, owner, resource_input("unconditional"))
    grants.request_share(
        consumer_admin,
        resource.pk,
        consumer=consumer,
        fields=["name"],
        purpose=PURPOSE,
        legal_basis="x",
        items=[],
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + dt.timedelta(days=1),
    )
    new = clients.create_client(None, consumer, name="live")
    session = OAuth2Session(new.client_id, new.client_secret, scope="exchange")
    token = session.fetch_token(f"{live_server.url}/o/token/", grant_type="client_credentials")
    assert token["scope"] == "exchange"
    r = session.post(
        f"{live_server.url}/api/exchange/lookup",
        json={
            "resource": resource.code,
            "subject": CODE1,
            "fields": ["name"],
            "purpose": PURPOSE,
            "case_number": "SL1",
            "request_id": "live-1",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["records"][0]["name"] == company(1)["name"]
    assert ExchangeLogEntry.objects.filter(request_id="live-1", outcome="answered").exists()
    _ = PASSWORD
