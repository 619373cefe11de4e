"""Base registries (exchange.registries): versions and closing, only the requested fields, no
clear personal data in any column, the change feed without gaps, owner-only updates."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection

from tests import factories
from yiwang.core.audit import AuditEntry
from yiwang.core.errors import NotPermitted
from yiwang.exchange import registries, synthetic
from yiwang.exchange.models import ECertificate, RegistryCounter, RegistryRecord
from yiwang.identity.models import Role, StaffRole
from yiwang.identity.registries import id_number_hash
from yiwang.identity.synthetic import demo_companies, demo_people, make_credit_code, make_id_number
from yiwang.regions.models import DepartmentKind

PERSON = make_id_number("350102", dt.date(1990, 1, 2), 11)
PERSON2 = make_id_number("350102", dt.date(1985, 6, 7), 22)
COMPANY = make_credit_code("350102", "MA2Y8K3Q")


@pytest.fixture
def owners(db):
    tree = factories.region_tree()
    prov = tree["province"]
    gaj = factories.department(prov, DepartmentKind.PUBLIC_SECURITY, "001", "福建省公安厅")
    scj = factories.department(prov, DepartmentKind.MARKET_REGULATION, "002", "福建省市场监督管理局")
    fgw = factories.department(prov, DepartmentKind.DEVELOPMENT_REFORM, "003", "福建省发展和改革委员会")
    county_gaj = factories.department(tree["county"], DepartmentKind.PUBLIC_SECURITY, "001")
    return {"population": gaj, "legal_entity": scj, "credit": fgw, "county_gaj": county_gaj, "tree": tree}


def data_admin(username: str, department) -> User:
    user = User.objects.create_user(username, password="x")
    StaffRole.objects.create(user=user, role=Role.DATA_ADMIN, department=department, region=department.region)
    return user


def person_row(id_number: str = PERSON, **kw) -> dict:
    row = {
        "id_number": id_number,
        "name": "陈小明",
        "gender": "男",
        "birth_date": "1990-01-02",
        "ethnicity": "汉族",
        "address": "福州市鼓楼区中山路1号",
        "household_region": "350102",
        "status": "normal",
    }
    row.update(kw)
    return row


def test_field_table_is_declarative():
    pop = registries.REGISTRIES["population"]
    assert pop.field_codes[:3] == ["id_number", "name", "gender"]
    assert all(not f.clear for f in pop.fields)  # nothing of a person is public
    le = registries.REGISTRIES["legal_entity"]
    assert le.field("name").clear and le.field("status").clear and not le.field("legal_representative").clear
    assert {f.sensitivity_label for f in pop.fields} <= {"公开", "内部", "敏感", "个人敏感"}


def test_versions_closing_and_only_requested_fields(owners):
    admin = data_admin("gaj", owners["population"])
    r = registries.upsert(
        "population",
        [person_row(), person_row(PERSON2, name="林芳")],
        department=owners["population"],
        actor=admin,
    )
    assert (r.created, r.updated, r.unchanged, r.errors) == (2, 0, 0, [])
    # the same rows again: no-ops
    r = registries.upsert("population", [person_row()], department=owners["population"], actor=admin)
    assert (r.created, r.updated, r.unchanged) == (0, 0, 1)
    # a change: a new version, the old one closed
    r = registries.upsert(
        "population",
        [person_row(address="福州市台江区五一路8号")],
        department=owners["population"],
        actor=admin,
    )
    assert (r.created, r.updated) == (0, 1)
    versions = RegistryRecord.objects.filter(
        registry="population", subject_hash=id_number_hash(PERSON)
    ).order_by("version")
    assert [(v.version, v.valid_until is None) for v in versions] == [(1, False), (2, True)]

    found = registries.lookup("population", [PERSON, PERSON2, "350102199001020000"], ["name", "address"])
    assert set(found) == {PERSON, PERSON2}  # the missing subject is absent
    assert found[PERSON] == [
        {
            "name": "陈小明",
            "address": "福州市台江区五一路8号",
            "_version": 2,
            "_valid_from": found[PERSON][0]["_valid_from"],
        }
    ]
    assert set(found[PERSON2][0]) == {"name", "address", "_version", "_valid_from"}
    with pytest.raises(ValueError):
        registries.lookup("population", [PERSON], ["name", "phone"])
    with pytest.raises(ValueError):
        registries.lookup("nowhere", [PERSON], ["name"])
    with pytest.raises(ValueError):
        registries.lookup("population", [PERSON] * 1001, ["name"])
    # close: no current record any more
    r = registries.upsert(
        "population", [{"id_number": PERSON2, "_op": "close"}], department=owners["population"], actor=admin
    )
    assert r.closed == 1 and PERSON2 not in registries.lookup("population", [PERSON2], ["name"])
    assert RegistryCounter.objects.get(registry="population").records == 1
    # every batch audited, counts only
    entries = AuditEntry.objects.filter(action="exchange.registry.upsert")
    assert entries.count() == 4
    for e in entries:
        text = json.dumps(e.detail, ensure_ascii=False) + e.summary
        assert PERSON not in text and "陈小明" not in text


def test_no_clear_personal_data_in_any_column(owners):
    admin = data_admin("gaj", owners["population"])
    registries.upsert("population", [person_row()], department=owners["population"], actor=admin)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM exchange_registryrecord")
        raw = " ".join(str(v) for row in cursor.fetchall() for v in row)
    for secret in (PERSON, "陈小明", "中山路", "1990-01-02", "汉族", PERSON[6:14], "350102"):
        assert secret not in raw
    assert id_number_hash(PERSON) in raw  # found by its keyed hash only


def test_public_fields_clear_and_company_lookup(owners):
    admin = data_admin("scj", owners["legal_entity"])
    row = {
        "credit_code": COMPANY,
        "name": "福州市鼓楼区恒信餐饮有限公司",
        "entity_type": "有限责任公司",
        "legal_representative": "陈小明",
        "registered_capital": "100",
        "established_on": dt.date(2020, 5, 1),
        "status": "存续",
        "region_code": "350102",
    }
    assert registries.upsert("legal_entity", [row], department=owners["legal_entity"], actor=admin).ok
    record = RegistryRecord.objects.get(registry="legal_entity")
    assert record.data_public["name"] == row["name"] and record.data_public["status"] == "active"
    assert "legal_representative" not in record.data_public and "陈小明" not in record.data_cipher
    found = registries.lookup("legal_entity", [COMPANY.lower()], ["name", "status", "legal_representative"])
    assert found[COMPANY.lower()][0]["legal_representative"] == "陈小明"
    assert found[COMPANY.lower()][0]["status"] == "active"


def test_row_errors_write_nothing(owners):
    admin = data_admin("gaj", owners["population"])
    bad_check = PERSON[:17] + ("0" if PERSON[17] != "0" else "1")
    rows = [
        person_row(PERSON2),
        person_row(bad_check),
        person_row(birth_date="1990-13-40"),
        {**person_row(), "phone": "1"},
    ]
    r = registries.upsert("population", rows, department=owners["population"], actor=admin)
    assert not r.ok and r.created == 0
    by_row = {(e.row, e.field) for e in r.errors}
    assert (2, "id_number") in by_row and (3, "birth_date") in by_row and (4, "phone") in by_row
    assert "校验位" in next(e.message for e in r.errors if e.row == 2)
    assert not RegistryRecord.objects.exists()


def test_only_the_owner_departments_data_admins_write(owners):
    county_admin = data_admin("county", owners["county_gaj"])
    other = data_admin("scj", owners["legal_entity"])
    superuser = User.objects.create_superuser("root", password="x")
    for actor, dept in ((county_admin, owners["population"]), (other, owners["population"]),
                        (superuser, owners["population"]), (None, owners["population"])):  # fmt: skip
        with pytest.raises(NotPermitted):
            registries.upsert("population", [person_row()], department=dept, actor=actor)
    owner_admin = data_admin("gaj", owners["population"])
    with pytest.raises(NotPermitted):  # the owner's admin, naming another department
        registries.upsert("population", [person_row()], department=owners["county_gaj"], actor=owner_admin)
    with pytest.raises(NotPermitted):  # e-certificates are issued, not imported
        registries.upsert("e_certificate", [], department=owners["population"], actor=owner_admin)
    assert not RegistryRecord.objects.exists()


def test_change_feed_pages_without_gaps(owners):
    admin = data_admin("fgw", owners["credit"])
    rows = [
        {"credit_code": COMPANY, "kind": "行政处罚", "subject_name": "某公司", "decision_number": f"闽罚〔2025〕{n}号",
         "content": "超范围经营", "decided_on": "2025-03-01"}
        for n in range(7)
    ]  # fmt: skip
    registries.upsert("credit", rows, department=owners["credit"], actor=admin)
    changed = dict(rows[3], content="超范围经营，罚款 2000 元")
    registries.upsert(
        "credit", [changed, {**rows[5], "_op": "close"}], department=owners["credit"], actor=admin
    )
    seen: list[dict] = []
    cursor = 0
    while True:
        page, cursor_next = registries.changes("credit", cursor, 3, ["decision_number", "content"])
        if not page:
            assert cursor_next == cursor
            break
        seen += page
        cursor = cursor_next
    seqs = [r["_seq"] for r in seen]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert seqs[-1] == RegistryCounter.objects.get(registry="credit").last_seq
    # 9 rows in all: 5 untouched, 2 closed versions, 1 new version... each row once, at its latest number
    assert len(seen) == RegistryRecord.objects.filter(registry="credit").count() == 8
    ops = [(r["decision_number"], r["_op"], r["_version"]) for r in seen[-3:]]
    assert ops == [
        ("闽罚〔2025〕3号", "close", 1),
        ("闽罚〔2025〕3号", "upsert", 2),
        ("闽罚〔2025〕5号", "close", 1),
    ]
    assert seen[-2]["content"] == "超范围经营，罚款 2000 元" and set(seen[0]) >= {
        "_subject_hash",
        "_seq",
        "_op",
    }
    # credit subjects have many records
    assert len(registries.lookup("credit", [COMPANY], ["kind"])[COMPANY]) == 6


def test_certificates_through_the_same_lookup(owners):
    from yiwang.core.crypto import encrypt
    from yiwang.exchange.services import DATA_CONTEXT, company_hash

    for n, holder in enumerate((id_number_hash(PERSON), company_hash(COMPANY))):
        ECertificate.objects.create(
            cert_type="食品经营许可证", number=f"ZZT{n}", holder_kind="person", holder_hash=holder,
            holder_name_masked="陈**", department=owners["legal_entity"], issuer_name="市场监管局",
            issued_on=dt.date.today(), valid_from=dt.date.today(),
            data_cipher=encrypt(json.dumps({"holder_name": "陈小明", "holder_id": PERSON}), context=DATA_CONTEXT),
        )  # fmt: skip
    found = registries.lookup("e_certificate", [PERSON, COMPANY], ["cert_type", "number", "holder_name"])
    assert found[PERSON][0]["number"] == "ZZT0" and found[PERSON][0]["holder_name"] == "陈小明"
    assert found[COMPANY][0]["number"] == "ZZT1"
    with pytest.raises(ValueError):
        registries.changes("e_certificate", 0, 10, ["number"])


def _run_generator(owners) -> str:
    out = io.StringIO()
    call_command(
        "generate_registries", "--people", "60", "--companies", "12", "--certificates", "20", "--credit", "30",
        "--no-progress", stdout=out,
    )  # fmt: skip
    return out.getvalue()


def _check_generated() -> None:
    counts = {c.registry: c.records for c in RegistryCounter.objects.all()}
    assert counts == {"population": 65, "legal_entity": 14, "credit": 32}
    assert ECertificate.objects.count() == 20
    lin = demo_people()[0]
    record = registries.lookup("population", [lin.id_number], ["name", "birth_date", "status"])[
        lin.id_number
    ][0]
    assert (
        record["name"] == lin.name and record["birth_date"] == "1985-03-15" and record["status"] == "normal"
    )
    company = demo_companies()[0]
    assert (
        registries.lookup("legal_entity", [company.credit_code], ["name"])[company.credit_code][0]["name"]
        == company.name
    )
    assert (
        registries.lookup("credit", [company.credit_code], ["kind"])[company.credit_code][0]["kind"]
        == "licence"
    )
    feed, cursor = registries.changes("population", 0, 1000, ["name"])
    assert len(feed) == 65 and cursor == feed[-1]["_seq"]


def test_generate_registries_small_run(owners):
    text = _run_generator(owners)
    assert "交换基础库：新增 人口库 65 条" in text
    _check_generated()
    text = _run_generator(owners)  # the same seed again adds nothing
    assert "人口库 0 条" in text and "电子证照库 0 条" in text
    _check_generated()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL (COPY) only")
def test_generate_registries_postgresql_copy(owners):
    assert synthetic._pg()  # the COPY path, straight in and then through the temporary table
    test_generate_registries_small_run(owners)


def test_generator_without_owner_departments_skips(db):
    out = io.StringIO()
    call_command("generate_registries", "--people", "5", "--companies", "1", "--no-progress", stdout=out)
    assert "已跳过" in out.getvalue()
    assert not RegistryRecord.objects.exists()
    with pytest.raises(synthetic.NoOwnerDepartment):
        synthetic.owners()


def test_rotation_covers_registry_records(owners, monkeypatch):
    import base64
    import os

    from yiwang.core import crypto

    admin = data_admin("gaj", owners["population"])
    registries.upsert("population", [person_row()], department=owners["population"], actor=admin)
    old = ",".join(f"{kid}:{base64.urlsafe_b64encode(k).decode()}" for kid, k in crypto._data_keys())
    new = "x9:" + base64.urlsafe_b64encode(os.urandom(32)).decode()
    try:
        monkeypatch.setenv("YIWANG_DATA_KEYS", f"{new},{old}")
        crypto.reset_key_cache()
        seq = RegistryRecord.objects.get().change_seq
        call_command("rotate_data_keys", stdout=io.StringIO())
        monkeypatch.setenv("YIWANG_DATA_KEYS", new)
        crypto.reset_key_cache()
        record = RegistryRecord.objects.get()
        assert record.data_cipher.startswith("x9:") and record.change_seq == seq
        assert registries.lookup("population", [PERSON], ["name"])[PERSON][0]["name"] == "陈小明"
    finally:
        monkeypatch.undo()
        crypto.reset_key_cache()
