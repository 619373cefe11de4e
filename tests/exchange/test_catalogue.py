"""The sharing catalogue: registration by the owner's data administrators (code, fields,
sharing-type rules, audit), edits and retirement, the staff pages and the API list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from tests.exchange.sharing_world import FIELDS, PASSWORD, TODAY, register, resource_input, sharing  # noqa: F401
from yiwang.core.errors import NotPermitted, ValidationFailed
from yiwang.core.models import AuditEntry
from yiwang.exchange import catalogue, grants
from yiwang.exchange.catalogue import FieldInput
from yiwang.exchange.models import DataResource, ResourceStatus


def _fields_of(exc: ValidationFailed) -> set[str]:
    return {e.field for e in exc.errors}


def test_register_gives_a_code_per_department_and_audits(sharing):  # noqa: F811
    r1 = register(sharing)
    r2 = register(sharing, "unconditional", name="企业年报信息")
    assert r1.code == "350102001-00001" and r2.code == "350102001-00002"
    assert [f.code for f in r1.fields.all()] == [f.code for f in FIELDS]
    assert r1.fields.get(code="address").sensitivity == "personal_sensitive"
    entry = AuditEntry.objects.filter(action="exchange.resource.register", object_id=str(r1.pk)).get()
    assert entry.detail["fields"][0] == "credit_code"
    assert "address" in entry.detail["sensitive"]


def test_region_data_admin_registers_for_a_department_in_the_region(sharing):  # noqa: F811
    r = catalogue.register(sharing.county_admin, sharing.owner, resource_input())
    assert r.department == sharing.owner


@pytest.mark.parametrize("who", ["consumer_admin", "far_admin", "clerk", "platform_admin"])
def test_only_the_owners_data_admins_register(sharing, who):  # noqa: F811
    with pytest.raises(NotPermitted):
        catalogue.register(getattr(sharing, who), sharing.owner, resource_input())
    assert not DataResource.objects.exists()
    assert not AuditEntry.objects.filter(action="exchange.resource.register").exists()


def test_conditional_and_not_shared_need_their_reason(sharing):  # noqa: F811
    for kind in ("conditional", "not_shared"):
        with pytest.raises(ValidationFailed) as exc:
            register(sharing, kind, sharing_reason="  ")
        assert _fields_of(exc.value) == {"sharing_reason"}
    with pytest.raises(ValidationFailed) as exc:
        register(sharing, "not_shared", open_data=True)
    assert _fields_of(exc.value) == {"open_data"}


def test_bad_fields_are_named(sharing):  # noqa: F811
    bad = [FieldInput("1x", "坏"), FieldInput("a", "甲"), FieldInput("a", "乙", sensitivity="secret")]
    with pytest.raises(ValidationFailed) as exc:
        register(sharing, fields=bad, registry="nope")
    fields = _fields_of(exc.value)
    assert {"fields.0", "fields.2", "registry"} <= fields
    with pytest.raises(ValidationFailed) as exc:
        register(sharing, fields=[])
    assert _fields_of(exc.value) == {"fields"}


def test_update_cannot_drop_a_field_of_a_live_grant(sharing):  # noqa: F811
    r = register(sharing, "unconditional")
    grants.request_share(
        sharing.consumer_admin,
        r.pk,
        consumer=sharing.consumer,
        fields=["credit_code", "name"],
        purpose="企业开办核验",
        legal_basis="《优化营商环境条例》",
        starts_on=TODAY,
        ends_on=TODAY + dt.timedelta(days=500),
    )
    with pytest.raises(ValidationFailed) as exc:
        catalogue.update(sharing.owner_admin, r.pk, resource_input("unconditional", fields=FIELDS[1:]))
    assert "credit_code" in exc.value.errors[0].message
    r2 = catalogue.update(sharing.owner_admin, r.pk, resource_input("conditional", fields=FIELDS[:2]))
    assert [f.code for f in r2.fields.all()] == ["credit_code", "name"]
    with pytest.raises(NotPermitted):
        catalogue.update(sharing.far_admin, r.pk, resource_input())
    catalogue.retire(sharing.owner_admin, r.pk)
    assert DataResource.objects.get(pk=r.pk).status == ResourceStatus.RETIRED
    assert AuditEntry.objects.filter(action="exchange.resource.retire").count() == 1


# --- the staff pages ---------------------------------------------------------------------------------


def _client(user) -> Client:
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def test_staff_browse_filter_and_read_a_resource(sharing):  # noqa: F811
    r = register(sharing)
    register(sharing, "unconditional", name="个体工商户登记信息", registry="legal_entity")
    c = _client(sharing.clerk)
    page = c.get("/workbench/exchange/catalogue/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "企业登记基本信息" in html and "个体工商户登记信息" in html
    html = c.get("/workbench/exchange/catalogue/", {"q": "住所"}).content.decode()
    assert "企业登记基本信息" in html and "个体工商户登记信息" in html  # field names match too
    html = c.get("/workbench/exchange/catalogue/", {"sharing_type": "unconditional"}).content.decode()
    assert "企业登记基本信息" not in html and "个体工商户登记信息" in html
    html = c.get("/workbench/exchange/catalogue/", {"q": "个体"}).content.decode()
    assert "企业登记基本信息" not in html
    detail = c.get(f"/workbench/exchange/catalogue/{r.pk}/").content.decode()
    assert "住所" in detail and "个人敏感" in detail and r.code in detail
    # the request form is for data administrators of another department only
    assert c.get(f"/workbench/exchange/catalogue/{r.pk}/request/").status_code == 403


def test_people_and_anonymous_cannot_browse(sharing):  # noqa: F811
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user(username="someone", password=PASSWORD)
    assert Client().get("/workbench/exchange/catalogue/").status_code == 302
    c = Client()
    c.login(username="someone", password=PASSWORD)
    assert c.get("/workbench/exchange/catalogue/").status_code == 403


# --- the API -----------------------------------------------------------------------------------------


def test_api_lists_filters_and_pages(sharing):  # noqa: F811
    r = register(sharing)
    register(sharing, "unconditional", name="个体工商户登记信息")
    register(
        sharing,
        "not_shared",
        name="企业内部监管信息",
        registry="credit",
        fields=[
            FieldInput("credit_code", "统一社会信用代码", "string", "public"),
            FieldInput("content", "决定内容", "string", "internal"),
        ],
    )
    retired = register(sharing, name="已停用的资源")
    catalogue.retire(sharing.owner_admin, retired.pk)
    c = Client()
    body = c.get("/api/exchange/catalogue/").json()
    assert body["total"] == 3
    assert [i["code"] for i in body["items"]] == sorted(i["code"] for i in body["items"])
    assert c.get("/api/exchange/catalogue/", {"registry": "credit"}).json()["total"] == 1
    assert c.get("/api/exchange/catalogue/", {"sharing_type": "unconditional"}).json()["total"] == 1
    assert c.get("/api/exchange/catalogue/", {"q": "统一社会信用代码"}).json()["total"] == 3
    assert c.get("/api/exchange/catalogue/", {"q": "个体"}).json()["total"] == 1
    assert c.get("/api/exchange/catalogue/", {"department": sharing.far.pk}).json()["total"] == 0
    assert c.get("/api/exchange/catalogue/", {"department": 999999}).status_code == 422
    assert c.get("/api/exchange/catalogue/", {"registry": "nope"}).status_code == 422
    page = c.get("/api/exchange/catalogue/", {"page_size": 2, "page": 2}).json()
    assert len(page["items"]) == 1 and page["pages"] == 2 and not page["has_next"]
    one = c.get(f"/api/exchange/catalogue/{r.code}").json()
    assert one["sharing_type"] == "conditional" and one["sharing_type_label"] == "有条件共享"
    assert [f["code"] for f in one["fields"]][:2] == ["credit_code", "name"]
    assert one["fields"][3]["sensitivity_label"] == "个人敏感"
    assert one["department"]["name"] == sharing.owner.name
    assert c.get(f"/api/exchange/catalogue/{retired.code}").status_code == 404
    en = c.get(f"/api/exchange/catalogue/{r.code}", HTTP_ACCEPT_LANGUAGE="en").json()
    assert en["sharing_type_label"] == "Conditional sharing"


def test_a_registry_resource_names_only_its_registrys_fields(sharing):  # noqa: F811
    """The exchange API reads exactly the granted codes from the registry, so a resource that
    exposes one may only register that registry's fields; the error names the field."""
    bad = [*FIELDS, FieldInput("photo", "证件照片", "file", "personal_sensitive")]
    with pytest.raises(ValidationFailed) as caught:
        register(sharing, fields=bad)
    assert [e.field for e in caught.value.errors] == [f"fields.{len(FIELDS)}"]
    assert "photo" in caught.value.errors[0].message and "法人库" in caught.value.errors[0].message
    # A resource of no base registry (其他) names its own fields.
    assert register(sharing, fields=bad, registry="other", name="其他资源").fields.count() == len(bad)
