"""Personal data inside application forms: marked in the schema, stored encrypted, masked in the
row, lists and audit, opened only for the applicant and staff of the case, migrated, rotated."""

from __future__ import annotations

import base64
import importlib
import io
import json
import os

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import connection

from yiwang.cases import actions, formschema, personal, services
from yiwang.cases.models import Application
from yiwang.core import crypto
from yiwang.core.errors import NotPermitted, ValidationFailed
from yiwang.core.models import AuditEntry

from .conftest import filled_application, submitted_case

PHONE = "13912345678"


def raw_row(app_id: int) -> str:
    """The stored row as the database holds it (what a dump or a DBA would see)."""
    with connection.cursor() as cur:
        cur.execute("SELECT data, personal_cipher FROM cases_application WHERE id = %s", [app_id])
        data, cipher = cur.fetchone()
    if isinstance(data, str):  # SQLite: JSON text with \u escapes; PostgreSQL: already parsed
        data = json.loads(data)
    return f"{json.dumps(data, ensure_ascii=False)} {cipher}"


def test_fields_marked_by_keyword_by_known_name_and_opt_out():
    schema = {
        "type": "object",
        "properties": {
            "owner": {"type": "string", "x-personal": "name"},
            "card": {"type": "string", "x-personal": "other"},
            "phone": {"type": "string"},  # known name
            "address": {"type": "string", "x-personal": False},  # a shop's address: not personal
            "shop_name": {"type": "string"},
            "mail": {"type": "string", "format": "email"},
        },
    }
    assert personal.personal_fields(schema) == {
        "owner": "name",
        "card": "other",
        "phone": "phone",
        "mail": "other",
    }
    assert set(personal.personal_fields(formschema.default_schema())) == {
        "applicant_name",
        "id_number",
        "phone",
    }
    assert formschema.check_schema(schema | {"properties": {"a": {"type": "string", "x-personal": "x"}}}) == [
        "字段“a”：x-personal 只能是 id_number、phone、address、name、other 或 false。"
    ]
    assert (
        formschema.check_schema({"type": "object", "properties": {"p": schema["properties"]["owner"]}}) == []
    )


@pytest.mark.parametrize(
    "kind,value,masked",
    [
        ("id_number", "350102199003071234", "3****************4"),
        ("phone", PHONE, "139****5678"),
        ("name", "陈雅婷", "陈**"),
        ("address", "福州市鼓楼区五四路1号", "福州市鼓楼区****"),
        ("other", "6222021234567890123", "***************0123"),
        ("other", "abc", "****"),
    ],
)
def test_masks(kind, value, masked):
    assert personal.mask(kind, value) == masked


def test_draft_values_are_sealed_and_opened_only_for_the_applicant(world):
    app = services.start_application(world.applicant, world.item)
    services.save_draft(app, user=world.applicant, data={**app.data, "phone": PHONE, "reason": "开办餐饮店"})
    app.refresh_from_db()
    stored = raw_row(app.pk)
    assert PHONE not in stored and world.person.name not in stored and "开办餐饮店" in stored
    assert app.data["phone"] == "139****5678" and app.data["reason"] == "开办餐饮店"
    assert app.personal_cipher.startswith(crypto.current_key_id() + ":")
    opened = personal.open_data(app, reader=world.applicant)
    assert opened["phone"] == PHONE and opened["applicant_name"] == world.person.name
    for stranger in (world.outsider, world.approver, world.far_clerk):  # no case yet: staff see nothing
        with pytest.raises(NotPermitted):
            personal.open_data(app, reader=stranger)

    # A page that showed the mask posts it back unchanged: the real value stays.
    services.save_draft(app, user=world.applicant, data={**app.data, "reason": "改了说明"})
    app.refresh_from_db()
    assert personal.open_data(app, reader=world.applicant)["phone"] == PHONE
    # A new value replaces it.
    services.save_draft(app, user=world.applicant, data={**app.data, "phone": "13800000000"})
    app.refresh_from_db()
    assert personal.open_data(app, reader=world.applicant)["phone"] == "13800000000"


def test_submission_validates_the_real_values_and_staff_of_the_case_may_open(world):
    case = submitted_case(world)
    app = case.application
    assert "*" in app.data["phone"]  # masked in the row, yet the submission validated the real one
    assert (
        personal.open_data(app, reader=world.clerk)["phone"]
        == personal.open_data(app, reader=world.applicant)["phone"]
    )
    with pytest.raises(NotPermitted):
        personal.open_data(app, reader=world.far_clerk)  # another region's clerk
    with pytest.raises(NotPermitted):
        personal.open_data(app, reader=world.outsider)
    # Nothing personal in the audit details of the submission.
    real_phone = personal.open_data(app, reader=world.applicant)["phone"]
    for entry in AuditEntry.objects.all():
        assert real_phone not in json.dumps(entry.detail, ensure_ascii=False) + entry.summary


def test_correction_of_a_personal_field_is_sealed(world):
    case = submitted_case(world)
    case = actions.RequestCorrection(
        case, world.clerk, items=[{"field": "phone", "reason": "联系电话停机"}]
    ).run()
    with pytest.raises(ValidationFailed):  # the real value is validated, not the mask
        actions.ApplicantCorrects(case, world.applicant, data={"phone": "123"}).run()
    case = actions.ApplicantCorrects(case, world.applicant, data={"phone": PHONE}).run()
    app = Application.objects.get(pk=case.application_id)
    assert PHONE not in raw_row(app.pk)
    assert personal.open_data(app, reader=world.applicant)["phone"] == PHONE


def test_migration_seals_plain_rows_once(world):
    app = filled_application(world)
    plain = personal.open_data(app, reader=personal.SYSTEM)
    # A row as written before sealing existed: real values in ``data``, no cipher.
    Application.objects.filter(pk=app.pk).update(data=plain, personal_cipher="")
    assert plain["phone"] in raw_row(app.pk)
    migration = importlib.import_module("yiwang.cases.migrations.0003_seal_personal_form_data")
    migration.seal_existing(django_apps, None)
    app.refresh_from_db()
    assert plain["phone"] not in raw_row(app.pk)
    assert personal.open_data(app, reader=world.applicant) == plain
    cipher = app.personal_cipher
    migration.seal_existing(django_apps, None)  # again: nothing to do
    app.refresh_from_db()
    assert app.personal_cipher == cipher and personal.open_data(app, reader=world.applicant) == plain


def test_rotate_data_keys_covers_form_data_and_addresses(world, monkeypatch):
    def key(kid: str) -> str:
        return f"{kid}:" + base64.urlsafe_b64encode(os.urandom(32)).decode()

    def use(value: str) -> None:
        monkeypatch.setenv("YIWANG_DATA_KEYS", value)
        crypto.reset_key_cache()

    # The keys in use so far (the people were registered under them) stay readable until rotated.
    old = ",".join(f"{kid}:{base64.urlsafe_b64encode(k).decode()}" for kid, k in crypto._data_keys())
    k2 = key("r2")
    try:
        app = services.start_application(world.applicant, world.item)
        services.save_draft(
            app,
            user=world.applicant,
            data={**app.data, "phone": PHONE},
            delivery_method="courier",
            delivery_address="福州市鼓楼区五四路1号",
        )
        use(f"{k2},{old}")
        out = io.StringIO()
        call_command("rotate_data_keys", stdout=out)
        assert "申请表单" in out.getvalue() or "cases.application" in out.getvalue()
        use(k2)  # the old key is gone: the form data must still open
        app.refresh_from_db()
        assert app.personal_cipher.startswith("r2:") and app.delivery_address_cipher.startswith("r2:")
        assert personal.open_data(app, reader=world.applicant)["phone"] == PHONE
        assert services.delivery_address_of(app) == "福州市鼓楼区五四路1号"
    finally:
        monkeypatch.undo()
        crypto.reset_key_cache()
