from __future__ import annotations

import copy

import pytest

from yiwang.cases import formschema, personal, services
from yiwang.cases.models import ItemForm
from yiwang.core.errors import NotPermitted, ValidationFailed
from yiwang.core.models import AuditEntry
from yiwang.identity.models import Role

from .conftest import staff

SCHEMA = {
    "type": "object",
    "properties": {
        "shop_name": {"type": "string", "title": "店铺名称", "minLength": 2, "maxLength": 20},
        "area": {"type": "number", "title": "经营面积", "minimum": 1, "maximum": 10000},
        "staff_count": {"type": "integer", "title": "从业人数", "minimum": 1},
        "category": {"type": "string", "title": "经营类别", "enum": ["餐饮服务", "食品销售"]},
        "opening": {"type": "string", "title": "开业日期", "format": "date"},
        "phone": {
            "type": "string",
            "title": "联系电话",
            "pattern": "^1[3-9][0-9]{9}$",
            "description": "11位手机号码",
        },
        "chain": {"type": "boolean", "title": "连锁经营"},
    },
    "required": ["shop_name", "category", "phone"],
}


def test_validation_messages_are_chinese_and_per_field():
    data = formschema.coerce(
        SCHEMA,
        {
            "shop_name": "店",
            "area": "0",
            "staff_count": "2.5",
            "category": "烟草",
            "opening": "2026-13-01",
            "phone": "123",
        },
    )
    errors = formschema.validate(SCHEMA, data)
    assert errors == {
        "shop_name": "店铺名称至少 2 个字。",
        "area": "经营面积不能小于 1。",
        "staff_count": "从业人数应为整数。",
        "category": "经营类别只能从所列选项中选择。",
        "opening": "开业日期应为日期，格式如 2026-01-31。",
        "phone": "联系电话格式不正确（11位手机号码）。",
    }
    assert formschema.validate(SCHEMA, {}) == {
        "shop_name": "请填写店铺名称。",
        "category": "请填写经营类别。",
        "phone": "请填写联系电话。",
    }
    good = formschema.coerce(
        SCHEMA,
        {
            "shop_name": "福州小吃",
            "area": "35.5",
            "staff_count": "3",
            "category": "餐饮服务",
            "opening": "2026-03-01",
            "phone": "13800000000",
            "chain": "on",
        },
    )
    assert formschema.validate(SCHEMA, good) == {}
    assert good["area"] == 35.5 and good["staff_count"] == 3 and good["chain"] is True


def test_rendered_form_carries_the_same_rules_as_html_attributes():
    form = formschema.SchemaForm(schema=SCHEMA, layout={"order": ["phone"]})
    html = str(form)
    assert list(form.fields)[0] == "phone"
    assert 'pattern="1[3-9][0-9]{9}"' in html
    assert 'minlength="2"' in html and 'maxlength="20"' in html
    assert 'min="1"' in html and 'max="10000"' in html and 'type="date"' in html
    assert html.count(" required") >= 3
    bound = formschema.SchemaForm(
        {"shop_name": "店", "category": "餐饮服务", "phone": "1380000000x"}, schema=SCHEMA
    )
    assert not bound.is_valid()
    assert bound.errors["shop_name"] == ["店铺名称至少 2 个字。"]
    assert "phone" in bound.errors


@pytest.mark.parametrize(
    "mutate, words",
    [
        (lambda s: s.update(type="array"), "object"),
        (lambda s: s["properties"].update(bad={"type": "object"}), "type 必须是"),
        (lambda s: s["properties"]["phone"].update(pattern="(["), "正则"),
        (lambda s: s["properties"]["opening"].update(format="email"), "format 只支持 date"),
        (lambda s: s["properties"].update({"Bad-Key": {"type": "string"}}), "字段名"),
        (lambda s: s.update(required=["nope"]), "必填字段“nope”"),
        (lambda s: s["properties"]["area"].update(minimum="one"), "不是有效的 JSON Schema"),
        (lambda s: s["properties"]["shop_name"].update(oneOf=[]), "不支持的关键字|不是有效"),
    ],
)
def test_bad_schemas_are_refused_with_a_clear_message(mutate, words):
    schema = copy.deepcopy(SCHEMA)
    mutate(schema)
    problems = formschema.check_schema(schema)
    assert problems and any(__import__("re").search(words, p) for p in problems), problems


def test_default_schema_is_valid_and_prefill_from_account(world):
    assert formschema.check_schema(formschema.default_schema(), formschema.default_layout()) == []
    app = services.start_application(world.applicant, world.item)
    values = personal.open_data(app, reader=world.applicant)
    assert values["applicant_name"] == world.person.name
    assert values["id_number"] == world.person.id_number_masked
    assert len(values["phone"]) == 11 and "*" not in values["phone"]
    assert formschema.check_schema(formschema.default_schema(), {"prefill": {"phone": "person.salary"}})


def test_drafts_keep_incomplete_data(world):
    app = services.start_application(world.applicant, world.item)
    errors = services.save_draft(app, user=world.applicant, data={"applicant_name": "张", "phone": ""})
    app.refresh_from_db()
    assert personal.open_data(app, reader=world.applicant) == {"applicant_name": "张"}
    assert set(errors) == {"applicant_name", "phone"}
    with pytest.raises(NotPermitted):
        services.save_draft(app, user=world.outsider, data={})


def test_catalogue_admin_edits_the_form(world):
    admin = staff("cat", Role.CATALOGUE_ADMIN, department=world.dept)
    other = staff("cat2", Role.CATALOGUE_ADMIN, department=world.far_dept)
    with pytest.raises(NotPermitted):
        services.save_item_form(world.item, schema=SCHEMA, layout={}, user=other)
    with pytest.raises(ValidationFailed):
        services.save_item_form(world.item, schema={"type": "object"}, layout={}, user=admin)
    services.save_item_form(
        world.item, schema=SCHEMA, layout={"prefill": {"phone": "person.phone"}}, user=admin
    )
    assert ItemForm.objects.get(item=world.item).schema == SCHEMA
    assert AuditEntry.objects.filter(action="cases.save_form").count() == 1
    app = services.start_application(world.applicant, world.item)
    assert app.form_schema == SCHEMA and set(app.data) == {"phone"}


def test_admin_refuses_a_bad_schema(world, client, settings):
    from django.contrib.auth import get_user_model

    from yiwang.cases.admin import ItemFormAdminForm

    form = ItemFormAdminForm(data={"item": world.item.pk, "schema": '{"type": "array"}', "layout": "{}"})
    assert not form.is_valid()
    assert any("object" in e for e in form.errors["schema"])
    form = ItemFormAdminForm(data={"item": world.item.pk, "schema": "{not json", "layout": "{}"})
    assert not form.is_valid()
    assert get_user_model()  # the admin page itself needs a second factor; the form is what checks
