"""Requests and grants: the three sharing types, decisions by the owner's data administrators
only, and the grant matrix of ``live_grant`` / ``granted_fields`` (no grant, not started,
expired, revoked, another purpose, fields outside the grant, retired resource)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from tests.exchange.sharing_world import PASSWORD, TODAY, register, sharing  # noqa: F401
from yiwang.core.errors import NotPermitted, ValidationFailed
from yiwang.core.models import AuditEntry
from yiwang.exchange import catalogue, grant_selectors, grants
from yiwang.exchange.models import Grant, GrantStatus, RequestStatus

PURPOSE = "企业开办核验"
END = TODAY + dt.timedelta(days=365)


def _ask(s, resource, fields=("credit_code", "name", "address"), **kw):
    user = kw.pop("user", s.consumer_admin)
    args = {
        "consumer": s.consumer,
        "fields": list(fields),
        "purpose": PURPOSE,
        "legal_basis": "《优化营商环境条例》第三十五条",
        "items": [s.item.code],
        "starts_on": TODAY,
        "ends_on": END,
        "today": TODAY,
    }
    args.update(kw)
    return grants.request_share(user, resource.pk, **args)


def _fields(exc: ValidationFailed) -> set[str]:
    return {e.field for e in exc.errors}


def test_unconditional_is_granted_at_once(sharing):  # noqa: F811
    r = register(sharing, "unconditional")
    req = _ask(sharing, r)
    assert req.status == RequestStatus.GRANTED and req.grant.granted_by is None
    assert req.grant.fields == ["credit_code", "name", "address"]
    assert req.items == [sharing.item.code]
    actions = list(
        AuditEntry.objects.filter(action__startswith="exchange.share")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["exchange.share.request", "exchange.share.grant"]
    g = grant_selectors.live_grant(sharing.consumer, r, ["name"], PURPOSE, on=TODAY)
    assert g == req.grant


def test_not_shared_is_refused_at_once_with_the_catalogue_reason(sharing):  # noqa: F811
    r = register(sharing, "not_shared", sharing_reason="涉及国家秘密，依法不予共享")
    req = _ask(sharing, r)
    assert req.status == RequestStatus.REFUSED
    assert req.refusal_reason == "涉及国家秘密，依法不予共享"
    assert not Grant.objects.exists()
    assert AuditEntry.objects.filter(action="exchange.share.refuse").get().detail["automatic"] is True


def test_conditional_waits_and_the_owner_approves_fewer_fields(sharing):  # noqa: F811
    r = register(sharing)
    req = _ask(sharing, r)
    assert req.status == RequestStatus.PENDING
    assert list(grant_selectors.pending_for(sharing.owner_admin)) == [req]
    assert list(grant_selectors.pending_for(sharing.consumer_admin)) == []
    assert list(grant_selectors.my_requests(sharing.consumer_admin)) == [req]
    assert grant_selectors.live_grant(sharing.consumer, r, ["name"], PURPOSE, on=TODAY) is None
    with pytest.raises(ValidationFailed) as exc:
        grants.approve(sharing.owner_admin, req.pk, fields=["registered_capital"])
    assert _fields(exc.value) == {"fields"}
    with pytest.raises(ValidationFailed):
        grants.approve(sharing.owner_admin, req.pk, fields=[])
    grant = grants.approve(sharing.owner_admin, req.pk, fields=["name", "credit_code"])
    assert grant.fields == ["credit_code", "name"]  # catalogue order
    entry = AuditEntry.objects.filter(action="exchange.share.grant").get()
    assert entry.detail["by"] == sharing.owner_admin.pk
    assert entry.detail["asked"] == ["credit_code", "name", "address"]
    assert grant_selectors.granted_fields(
        sharing.consumer, r, ["address", "name", "credit_code"], PURPOSE, on=TODAY
    ) == ["name", "credit_code"]
    assert grant_selectors.live_grant(sharing.consumer, r, ["name", "address"], PURPOSE, on=TODAY) is None
    with pytest.raises(ValidationFailed):  # decided once
        grants.approve(sharing.owner_admin, req.pk)


def test_refuse_needs_a_reason(sharing):  # noqa: F811
    r = register(sharing)
    req = _ask(sharing, r)
    with pytest.raises(ValidationFailed) as exc:
        grants.refuse(sharing.owner_admin, req.pk, reason="  ")
    assert _fields(exc.value) == {"reason"}
    grants.refuse(sharing.owner_admin, req.pk, reason="用途与所需字段不相符")
    req.refresh_from_db()
    assert req.status == RequestStatus.REFUSED and req.refusal_reason == "用途与所需字段不相符"
    assert grant_selectors.granted_fields(sharing.consumer, r, ["name"], PURPOSE, on=TODAY) == []


@pytest.mark.parametrize("who", ["consumer_admin", "far_admin", "clerk", "platform_admin"])
def test_only_the_owners_data_admin_decides(sharing, who):  # noqa: F811
    r = register(sharing)
    req = _ask(sharing, r)
    user = getattr(sharing, who)
    before = AuditEntry.objects.count()
    with pytest.raises(NotPermitted):
        grants.approve(user, req.pk)
    with pytest.raises(NotPermitted):
        grants.refuse(user, req.pk, reason="不同意")
    req.refresh_from_db()
    assert req.status == RequestStatus.PENDING and AuditEntry.objects.count() == before
    grant = grants.approve(sharing.county_admin, req.pk)  # the region's data admin covers the owner
    with pytest.raises(NotPermitted):
        grants.revoke(user, grant.pk, reason="撤销")


@pytest.mark.parametrize("who", ["owner_admin", "far_admin", "clerk"])
def test_only_the_consumers_data_admin_asks(sharing, who):  # noqa: F811
    r = register(sharing, "unconditional")
    with pytest.raises(NotPermitted):
        _ask(sharing, r, user=getattr(sharing, who))
    assert not AuditEntry.objects.filter(action="exchange.share.request").exists()


def test_request_errors_are_named(sharing):  # noqa: F811
    r = register(sharing)
    with pytest.raises(ValidationFailed) as exc:
        _ask(
            sharing,
            r,
            fields=["name", "no_such_field"],
            purpose="",
            legal_basis="",
            items=["NOPE"],
            starts_on=TODAY,
            ends_on=TODAY - dt.timedelta(days=1),
        )
    assert _fields(exc.value) == {"fields", "purpose", "legal_basis", "items", "ends_on"}
    assert any("no_such_field" in e.message for e in exc.value.errors)
    with pytest.raises(ValidationFailed) as exc:
        _ask(sharing, r, consumer=sharing.owner, user=sharing.owner_admin)
    assert _fields(exc.value) == {"consumer"}
    with pytest.raises(ValidationFailed) as exc:
        _ask(sharing, r, starts_on=None, ends_on=None)
    assert _fields(exc.value) == {"starts_on", "ends_on"}


# --- the grant matrix ----------------------------------------------------------------------------------


def test_grant_matrix(sharing):  # noqa: F811
    r = register(sharing, "unconditional")
    other = register(sharing, "unconditional", name="其他资源")
    fields = ["credit_code", "name"]

    def live(on=TODAY, purpose=PURPOSE, consumer=None, resource=r, asked=fields):
        who = consumer or sharing.consumer
        g = grant_selectors.live_grant(who, resource, asked, purpose, on=on)
        got = grant_selectors.granted_fields(who, resource, asked, purpose, on=on)
        assert (g is None) == (got == [] or set(got) != set(asked))
        return got

    assert live() == []  # no grant
    _ask(sharing, r, fields=fields, starts_on=TODAY + dt.timedelta(days=10), ends_on=END)
    assert live() == []  # not started yet
    assert live(on=TODAY + dt.timedelta(days=10)) == fields  # first day
    assert live(on=END) == fields  # last day
    assert live(on=END + dt.timedelta(days=1)) == []  # expired
    assert live(on=END, purpose="其他用途") == []  # another purpose
    assert live(on=END, purpose=" ") == []  # no purpose
    assert live(on=END, consumer=sharing.far) == []  # another department
    assert live(on=END, resource=other) == []  # another resource
    assert live(on=END, asked=["name", "address"]) == ["name"]  # only the granted field
    assert grant_selectors.live_grant(sharing.consumer, r, ["name", "address"], PURPOSE, on=END) is None
    grant = Grant.objects.get()
    with pytest.raises(ValidationFailed) as exc:
        grants.revoke(sharing.owner_admin, grant.pk, reason="")
    assert _fields(exc.value) == {"reason"}
    grants.revoke(sharing.owner_admin, grant.pk, reason="申请部门职能调整")
    assert Grant.objects.get().status == GrantStatus.REVOKED
    assert live(on=END) == []  # revoked
    assert (
        AuditEntry.objects.filter(action="exchange.grant.revoke").get().detail["reason"] == "申请部门职能调整"
    )
    with pytest.raises(ValidationFailed):
        grants.revoke(sharing.owner_admin, grant.pk, reason="再次撤销")
    # a new grant, then the resource is retired: nothing is live any more
    _ask(sharing, r, fields=fields)
    assert live() == fields
    catalogue.retire(sharing.owner_admin, r.pk)
    assert live() == []


# --- the pages -----------------------------------------------------------------------------------------


def _client(user) -> Client:
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def test_request_and_decide_through_the_pages(sharing, settings):  # noqa: F811
    r = register(sharing)
    c = _client(sharing.consumer_admin)
    form = c.get(f"/workbench/exchange/catalogue/{r.pk}/request/")
    assert form.status_code == 200 and "住所" in form.content.decode()
    bad = c.post(
        f"/workbench/exchange/catalogue/{r.pk}/request/",
        {
            "consumer": sharing.consumer.pk,
            "fields": ["name"],
            "purpose": "",
            "legal_basis": "依据",
            "starts_on": "2099-02-01",
            "ends_on": "2099-01-01",
        },
    )
    assert bad.status_code == 400
    html = bad.content.decode()
    assert 'id="e-purpose"' in html and 'id="e-ends_on"' in html and "结束日期不能早于开始日期" in html
    ok = c.post(
        f"/workbench/exchange/catalogue/{r.pk}/request/",
        {
            "consumer": sharing.consumer.pk,
            "fields": ["name", "credit_code"],
            "purpose": PURPOSE,
            "legal_basis": "依据",
            "items": sharing.item.code,
            "starts_on": "2099-01-01",
            "ends_on": "2099-12-31",
        },
    )
    assert ok.status_code == 302
    req = grant_selectors.my_requests(sharing.consumer_admin).get()
    mine = c.get("/workbench/exchange/requests/").content.decode()
    assert r.name in mine and "待审批" in mine
    assert c.get(f"/workbench/exchange/requests/{req.pk}/").status_code == 200
    assert c.post(f"/workbench/exchange/requests/{req.pk}/approve/", {"fields": ["name"]}).status_code == 403
    owner = _client(sharing.owner_admin)
    assert sharing.consumer.name in owner.get("/workbench/exchange/approvals/").content.decode()
    refused = owner.post(f"/workbench/exchange/requests/{req.pk}/refuse/", {"reason": ""})
    assert refused.status_code == 400 and 'id="e-reason"' in refused.content.decode()
    done = owner.post(f"/workbench/exchange/requests/{req.pk}/approve/", {"fields": ["name"]})
    assert done.status_code == 302
    grant = Grant.objects.get()
    assert grant.fields == ["name"]
    again = owner.post(f"/workbench/exchange/requests/{req.pk}/approve/", {"fields": ["name"]})
    assert again.status_code == 400 and "该申请已审批" in again.content.decode()
    assert _client(sharing.far_admin).get(f"/workbench/exchange/requests/{req.pk}/").status_code == 404
    revoked = owner.post(f"/workbench/exchange/grants/{grant.pk}/revoke/", {"reason": "不再需要"})
    assert revoked.status_code == 302
    assert "已撤销" in c.get("/workbench/exchange/requests/").content.decode()
