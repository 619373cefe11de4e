"""The demo's sharing catalogue, requests and grants (``core.demo.load_demo_extras``).

At the province: 公安厅 publishes the population registry (有条件共享) and a resource it does not
share, 市场监督管理局 the legal-entity registry (无条件共享) and the electronic business licences
of the e-certificate library (有条件共享; the platform has no data-bureau department kind, and the
business licence is 市场监管's certificate), 发展和改革委员会 the public credit records. Their
data administrators and those of 人力资源和社会保障厅, 住房公积金 and 税务 then ask and decide
through ``exchange.grants``, as they would on the workbench: grants at once and after approval
(with fewer fields), one request waiting, one refused, one refused by the catalogue, one grant
revoked. Idempotent: nothing is added when the population resource exists.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from yiwang.core.context import acting_as
from yiwang.identity.models import LegalEntityRecord, Role, StaffRole
from yiwang.regions.models import Department, Region

from . import catalogue, grants
from .catalogue import FieldInput, ResourceInput
from .models import DataResource, ExchangeClient

F = FieldInput

RESOURCES: dict[str, tuple[str, ResourceInput]] = {
    "population": (
        "gaj",
        ResourceInput(
            name="人口基本信息",
            registry="population",
            update_cycle="realtime",
            sharing_type="conditional",
            description="户籍人口的身份和户籍地址信息，用于身份核验和免提交身份证明。",
            legal_basis="《中华人民共和国居民身份证法》；《政务信息资源共享管理暂行办法》",
            sharing_reason="涉及个人信息，须写明办理事项和用途，按最少够用原则申请字段。",
            fields=[
                F("id_number", "公民身份号码", "string", "personal_sensitive"),
                F("name", "姓名", "string", "personal_sensitive"),
                F("gender", "性别", "string", "internal"),
                F("ethnicity", "民族", "string", "sensitive"),
                F("birth_date", "出生日期", "date", "personal_sensitive"),
                F("address", "户籍地址", "string", "personal_sensitive"),
                F("household_region", "户籍地行政区划", "string", "sensitive"),
            ],
        ),
    ),
    "case_records": (
        "gaj",
        ResourceInput(
            name="涉案人员信息",
            registry="other",
            update_cycle="daily",
            sharing_type="not_shared",
            description="刑事案件涉案人员信息。",
            legal_basis="《中华人民共和国刑事诉讼法》",
            sharing_reason="涉及侦查秘密，依法不予共享。",
            fields=[
                F("person_id", "人员编号", "string", "sensitive"),
                F("case_no", "案件编号", "string", "sensitive"),
            ],
        ),
    ),
    "legal_entity": (
        "scjgj",
        ResourceInput(
            name="市场主体登记基本信息",
            registry="legal_entity",
            update_cycle="realtime",
            sharing_type="unconditional",
            description="企业、个体工商户和农民专业合作社的登记信息。",
            legal_basis="《市场主体登记管理条例》第三十五条",
            open_data=True,
            fields=[
                F("credit_code", "统一社会信用代码", "string", "public"),
                F("name", "名称", "string", "public"),
                F("entity_type", "市场主体类型", "string", "public"),
                F("legal_representative", "法定代表人", "string", "sensitive"),
                F("registered_capital", "注册资本（万元）", "decimal", "public"),
                F("established_on", "成立日期", "date", "public"),
                F("address", "住所", "string", "public"),
                F("status", "登记状态", "string", "public"),
            ],
        ),
    ),
    "e_licence": (
        "scjgj",
        ResourceInput(
            name="电子营业执照及许可证照",
            registry="e_certificate",
            update_cycle="realtime",
            sharing_type="conditional",
            description="电子证照库中的营业执照、食品经营许可证等证照信息和版式文件。",
            legal_basis="《国务院关于在线政务服务的若干规定》第十条",
            sharing_reason="用于办理政务服务事项时免提交证照，须写明支撑事项。",
            fields=[
                F("cert_type", "证照类型", "string", "public"),
                F("number", "证照编号", "string", "internal"),
                F("holder_name", "持证主体", "string", "personal_sensitive"),
                F("issuer_name", "发证机关", "string", "public"),
                F("valid_until", "有效期至", "date", "public"),
                F("status", "证照状态", "string", "public"),
            ],
        ),
    ),
    "credit": (
        "fgw",
        ResourceInput(
            name="公共信用信息（行政许可、行政处罚、经营异常名录）",
            registry="credit",
            update_cycle="daily",
            sharing_type="conditional",
            description="“双公示”行政许可和行政处罚信息，经营异常名录和严重违法失信名单。",
            legal_basis="《福建省公共信用信息管理暂行办法》",
            sharing_reason="用于信用核查和联合奖惩，须写明核查事项。",
            fields=[
                F("credit_code", "统一社会信用代码", "string", "public"),
                F("kind", "信息类别（行政许可/行政处罚/经营异常名录）", "string", "public"),
                F("subject_name", "主体名称", "string", "public"),
                F("decision_number", "决定文书号", "string", "public"),
                F("authority", "作出决定机关", "string", "public"),
                F("content", "决定内容", "string", "internal"),
                F("decided_on", "决定日期", "date", "public"),
                F("valid_until", "有效期至", "date", "public"),
            ],
        ),
    ),
}

# username → the kind of the province department the user is data administrator of
ADMINS = {
    "data_gat": "gaj",
    "data_scjg": "scjgj",
    "data_fgw": "fgw",
    "data_rst": "rsj",
    "data_gjj": "gjj",
    "data_sw": "swju",
}


def create_demo_sharing(password: str) -> list[tuple[str, str, str]]:
    """The catalogue, its requests and grants, and the data administrators' logins."""
    province = Region.objects.filter(parent__isnull=True).order_by("code").first()
    if province is None:
        return []
    depts = {d.kind: d for d in Department.objects.filter(region=province).select_related("region")}
    if any(kind not in depts for kind in ADMINS.values()):
        return []
    users = {}
    for username, kind in ADMINS.items():
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"first_name": f"{depts[kind].name}数据管理员"}
        )
        if created:
            user.set_password(password)
            user.save()
        StaffRole.objects.get_or_create(
            user=user, role=Role.DATA_ADMIN, region=province, department=depts[kind]
        )
        users[kind] = user
    logins = [(u, password, f"{depts[k].name}数据管理员（共享目录、申请与审批）") for u, k in ADMINS.items()]
    if DataResource.objects.filter(name=RESOURCES["population"][1].name, department=depts["gaj"]).exists():
        return logins
    made = {}
    for key, (kind, data) in RESOURCES.items():
        with acting_as(users[kind]):
            made[key] = catalogue.register(users[kind], depts[kind], data)
    today = timezone.localdate()
    year = today + dt.timedelta(days=365)

    def ask(kind: str, key: str, fields: list[str], purpose: str, basis: str, **kw):
        with acting_as(users[kind]):
            return grants.request_share(
                users[kind],
                made[key].pk,
                consumer=depts[kind],
                fields=fields,
                purpose=purpose,
                legal_basis=basis,
                starts_on=kw.pop("starts_on", today),
                ends_on=kw.pop("ends_on", year),
                **kw,
            )

    # 人社厅: business registration at once (无条件共享), and people's identity after approval
    ask(
        "rsj",
        "legal_entity",
        ["credit_code", "name", "legal_representative", "status"],
        "社保参保登记核验",
        "《社会保险法》",
    )
    req = ask(
        "rsj",
        "population",
        ["id_number", "name", "birth_date", "address", "household_region"],
        "社保卡申领身份核验",
        "《社会保险法》第五十八条",
    )
    with acting_as(users["gaj"]):  # approved without the addresses (最少够用)
        grants.approve(users["gaj"], req.pk, fields=["id_number", "name", "birth_date"])
    # 公积金: credit check waiting for 发改委's decision; e-licences granted, then revoked
    ask(
        "gjj",
        "credit",
        ["credit_code", "kind", "decision_number", "decided_on"],
        "缴存单位信用核查",
        "《住房公积金管理条例》",
    )
    req = ask(
        "gjj",
        "e_licence",
        ["cert_type", "number", "holder_name"],
        "单位缴存登记免提交营业执照",
        "《住房公积金管理条例》",
    )
    with acting_as(users["scjgj"]):
        grant = grants.approve(users["scjgj"], req.pk)
        grants.revoke(
            users["scjgj"], grant.pk, reason="申请部门已改为通过统一身份认证核验单位信息，不再需要证照数据。"
        )
    # 税务: identity refused by 公安厅; the case records refused by the catalogue itself
    req = ask(
        "swju", "population", ["id_number", "name", "ethnicity", "address"], "税务登记", "《税收征收管理法》"
    )
    with acting_as(users["gaj"]):
        grants.refuse(users["gaj"], req.pk, reason="民族和户籍地址与税务登记无关，请按最少够用原则重新申请。")
    ask("swju", "case_records", ["person_id"], "欠税人员核查", "《税收征收管理法》")
    return logins


DEMO_CLIENT_NAME = "社保经办系统"


def create_demo_client() -> tuple[str, str]:
    """人社厅's system as an exchange API client, with some logged requests and sealed figures:
    lookups answered under its 市场主体登记 grant, a bulk lookup, a wrong purpose and a field
    outside the grant refused. ``(client id, secret)``; the secret only when made now (it is
    stored hashed and cannot be shown again)."""
    from . import answering, clients, log

    users = {u.username: u for u in get_user_model().objects.filter(username__in=["data_rst"])}
    dept = Department.objects.filter(kind="rsj", region__parent__isnull=True).first()
    resource = DataResource.objects.filter(name=RESOURCES["legal_entity"][1].name).first()
    if dept is None or resource is None or "data_rst" not in users:
        return ("", "")
    existing = ExchangeClient.objects.filter(department=dept, name=DEMO_CLIENT_NAME).first()
    if existing is not None:
        return (str(existing.application.client_id), "")
    admin = users["data_rst"]
    with acting_as(admin):
        new = clients.create_client(admin, dept, name=DEMO_CLIENT_NAME, rate_limit="1200/m")
    client = ExchangeClient.objects.select_related("application", "department").get(pk=new.client.pk)
    codes = list(LegalEntityRecord.objects.order_by("pk").values_list("credit_code", flat=True)[:20])
    purpose = "社保参保登记核验"
    granted = ["credit_code", "name"]

    def call(n: int, **kw: Any) -> answering.Call:
        args: dict[str, Any] = {
            "client": client,
            "request_id": f"demo-{n:03d}",
            "resource_code": resource.code,
            "fields": granted,
            "purpose": purpose,
            "case_number": f"DEMO{n:06d}",
        } | kw
        return answering.Call(**args)

    for n, code in enumerate(codes[:8], start=1):
        answering.lookup(call(n), [code])
    answering.lookup(call(20), codes, bulk=True)
    answering.lookup(call(30, purpose="工伤认定调查"), codes[:1])  # refused: wrong purpose
    answering.lookup(call(31, fields=[*granted, "address"]), codes[:1])  # refused: field
    log.seal_all()
    return (new.client_id, new.client_secret)
