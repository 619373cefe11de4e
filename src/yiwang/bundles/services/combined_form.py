"""The combined form and shared materials of a bundle: each field and material its members ask
for, asked once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from yiwang.cases import formschema
from yiwang.cases.models import ItemForm
from yiwang.cases.services import form_of
from yiwang.catalog.models import ServiceItem
from yiwang.core import audit
from yiwang.core.errors import DomainError, FieldError, ValidationFailed

from ..models import Bundle, BundleField, BundleMaterial, BundleMember
from .definitions import FIELD_KEY_RE, check_can_manage


@dataclass
class CombinedForm:
    fields: list[BundleField]
    materials: list[BundleMaterial]


def forms_of(item_ids: list[int]) -> dict[int, tuple[dict, dict]]:
    """item id -> (schema, layout) of each item's form (``cases.services.form_of``), one query for
    all of them: a bundle reads the forms of all its members at once."""
    found = {f.item_id: (f.schema, f.layout or {}) for f in ItemForm.objects.filter(item_id__in=item_ids)}
    return {i: found.get(i) or (formschema.default_schema(), formschema.default_layout()) for i in item_ids}


def member_form(
    item: ServiceItem, form: tuple[dict, dict] | None = None
) -> tuple[list[tuple[str, dict]], set[str], dict]:
    """(ordered [(key, field schema)], required keys, layout) of an item's form."""
    schema, layout = form if form is not None else form_of(item)
    props = schema.get("properties") or {}
    order = [k for k in (layout or {}).get("order") or [] if k in props]
    order += [k for k in props if k not in order]
    return [(k, props[k]) for k in order], set(schema.get("required") or []), layout or {}


def member_materials(item: ServiceItem) -> list[dict]:
    """The material elements of an item: its published ones, else its working copy's."""
    version = item.current_version
    if version is not None:
        return list(version.elements.get("materials") or [])
    return [m.as_element() for m in item.materials.all()]


def _same_field(a: dict, b: dict) -> bool:
    return (a.get("type") or "string") == (b.get("type") or "string") and (a.get("format") == b.get("format"))


@transaction.atomic
def rebuild_combined_form(bundle: Bundle, *, user: User | None = None) -> CombinedForm:
    """Rebuild the combined form and the shared materials from the members' current forms and
    published materials: a field with the same key, or the same title and type, is asked once; a
    material with the same name, or the same e-certificate type, is uploaded once. The
    administrators' merges and renames are kept: a member's field that a combined field asked
    before is asked by that field again (its key and title as the administrator left them)."""
    check_can_manage(user, bundle)
    members = list(bundle.members.select_related("item", "item__current_version"))
    # What the administrators made of the previous rebuild: (member item, its field) → combined.
    before = {
        (item_id, member_key): row
        for row in bundle.fields.all()
        for item_id, member_key in row.mapping.items()
    }
    kept_keys = {row.key for row in before.values()}
    fields: list[dict[str, Any]] = []
    by_key: dict[str, dict] = {}
    by_title: dict[tuple[str, str], dict] = {}
    for member in members:
        item_id = str(member.item_id)
        props, required, _layout = member_form(member.item)
        for key, schema in props:
            title = str(schema.get("title") or key)
            target = None
            old = before.get((item_id, key))
            if old is not None:
                target = by_key.get(old.key)
                if target is None:
                    target = {
                        "key": old.key,
                        "schema": {**dict(schema), "title": old.schema.get("title") or title},
                        "mapping": {},
                        "required_for": [],
                    }
                    fields.append(target)
                    by_key[old.key] = target
                elif item_id in target["mapping"]:
                    target = None
            if target is None:
                target = by_key.get(key)
                if target is not None and (
                    not _same_field(target["schema"], schema) or item_id in target["mapping"]
                ):
                    target = None
            if target is None:
                target = by_title.get((title, schema.get("type") or "string"))
                if target is not None and item_id in target["mapping"]:
                    target = None
            if target is None:
                new_key = key
                n = 2
                # nor a key that a kept field takes (when its member comes later in the loop)
                while new_key in by_key or new_key in kept_keys:
                    new_key = f"{key[:36]}_{n}"
                    n += 1
                target = {"key": new_key, "schema": dict(schema), "mapping": {}, "required_for": []}
                fields.append(target)
                by_key[new_key] = target
                by_title.setdefault((title, schema.get("type") or "string"), target)
            target["mapping"][item_id] = key
            if key in required:
                target["required_for"].append(member.item_id)
    materials: list[dict[str, Any]] = []
    by_name: dict[str, dict] = {}
    by_cert: dict[str, dict] = {}
    for member in members:
        item_id = str(member.item_id)
        for element in member_materials(member.item):
            name = element["name"]
            cert = (element.get("certificate_type") or "").strip()
            target = by_name.get(name) or (by_cert.get(cert) if cert else None)
            if target is not None and item_id in target["mapping"]:
                target = None
            if target is None:
                target_name = name if name not in by_name else f"{name}（{member.item.department.name}）"
                kept = {k: v for k, v in element.items() if k not in ("name", "requirement", "condition")}
                target = {"name": target_name, "element": kept, "mapping": {}, "required_for": []}
                materials.append(target)
                by_name[target_name] = target
                if cert:
                    by_cert.setdefault(cert, target)
            target["mapping"][item_id] = name
            if element.get("requirement", "required") == "required":
                target["required_for"].append(member.item_id)
    # A shared material is named after the first member that asks for it; when that member has a
    # condition and a member without one asks for it under another name, the latter's name is
    # used, since every application needs it under that name (a 个体工商户 is asked for the food
    # licence's 法定代表人身份证明, not the company registration's 股东主体资格证明).
    always = {str(m.item_id) for m in members if not m.condition.strip()}
    taken = {m["name"] for m in materials}
    for target in materials:
        own = [n for i, n in target["mapping"].items() if i in always]
        if own and target["name"] not in own and own[0] not in taken:
            taken.discard(target["name"])
            target["name"] = own[0]
            taken.add(own[0])
    bundle.fields.all().delete()
    bundle.materials.all().delete()
    new_fields = BundleField.objects.bulk_create(
        BundleField(bundle=bundle, order=i, **f) for i, f in enumerate(fields)
    )
    new_materials = BundleMaterial.objects.bulk_create(
        BundleMaterial(bundle=bundle, order=i, **m) for i, m in enumerate(materials)
    )
    audit.record(
        "bundles.rebuild_form",
        bundle,
        summary=bundle.code,
        detail={"fields": len(new_fields), "materials": len(new_materials)},
    )
    return CombinedForm(new_fields, new_materials)


@transaction.atomic
def merge_fields(bundle: Bundle, keys: list[str], *, into: str, user: User | None) -> BundleField:
    """Ask several combined fields as one (``into`` keeps its key and schema)."""
    check_can_manage(user, bundle)
    rows = {f.key: f for f in bundle.fields.filter(key__in=keys)}
    missing = [k for k in keys if k not in rows]
    if missing or into not in rows:
        raise DomainError(_("没有字段：%(k)s") % {"k": "、".join(missing or [into])}, field="keys")
    target = rows[into]
    mapping = dict(target.mapping)
    required = set(target.required_for)
    errors = []
    for key in keys:
        if key == into:
            continue
        other = rows[key]
        for item_id, item_key in other.mapping.items():
            if item_id in mapping:
                errors.append(
                    FieldError(
                        "keys",
                        _("字段“%(a)s”和“%(b)s”对应同一事项的不同字段（%(x)s、%(y)s），不能合并。")
                        % {"a": into, "b": key, "x": mapping[item_id], "y": item_key},
                    )
                )
            mapping[item_id] = item_key
        required |= set(other.required_for)
    if errors:
        raise ValidationFailed(errors)
    bundle.fields.filter(key__in=[k for k in keys if k != into]).delete()
    target.mapping, target.required_for = mapping, sorted(required)
    target.save(update_fields=["mapping", "required_for"])
    audit.record("bundles.merge_fields", bundle, summary=bundle.code, detail={"keys": keys, "into": into})
    return target


@transaction.atomic
def rename_field(
    bundle_field: BundleField, *, user: User | None, key: str | None = None, title: str | None = None
) -> BundleField:
    check_can_manage(user, bundle_field.bundle)
    if key is not None and key != bundle_field.key:
        if not FIELD_KEY_RE.match(key):
            raise DomainError(_("字段名应为小写字母开头的字母、数字或下划线（至多40位）。"), field="key")
        if BundleField.objects.filter(bundle=bundle_field.bundle, key=key).exists():
            raise DomainError(_("字段名“%(k)s”已存在。") % {"k": key}, field="key", code="duplicate")
        bundle_field.key = key
    if title is not None:
        if not title.strip():
            raise DomainError(_("请填写字段标题。"), field="title")
        bundle_field.schema = {**bundle_field.schema, "title": title.strip()}
    bundle_field.save(update_fields=["key", "schema"])
    audit.record("bundles.rename_field", bundle_field.bundle, summary=bundle_field.key)
    return bundle_field


def combined_schema(
    bundle: Bundle, members: list[BundleMember], fields: list[BundleField] | None = None
) -> dict[str, Any]:
    """The JSON Schema (``cases.formschema``) of the combined form for these members: each field
    one of them needs, once; required when one of them requires it. ``fields``: the bundle's
    fields when the caller already read them."""
    ids = {str(m.item_id) for m in members}
    int_ids = {m.item_id for m in members}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for f in bundle.fields.all() if fields is None else fields:
        if not ids & set(f.mapping):
            continue
        properties[f.key] = f.schema
        if int_ids & set(f.required_for):
            required.append(f.key)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": required,
    }


def combined_layout(
    bundle: Bundle, members: list[BundleMember], fields: list[BundleField] | None = None
) -> dict[str, Any]:
    """Field order and the members' prefills carried over to the combined keys."""
    ids = {str(m.item_id) for m in members}
    forms = forms_of([m.item_id for m in members])
    layouts = {str(m.item_id): member_form(m.item, forms[m.item_id])[2] for m in members}
    order: list[str] = []
    prefill: dict[str, Any] = {}
    widgets: dict[str, Any] = {}
    for f in bundle.fields.all() if fields is None else fields:
        if not ids & set(f.mapping):
            continue
        order.append(f.key)
        for item_id, key in f.mapping.items():
            layout = layouts.get(item_id) or {}
            if key in (layout.get("prefill") or {}):
                prefill.setdefault(f.key, layout["prefill"][key])
            if key in (layout.get("widgets") or {}):
                widgets.setdefault(f.key, layout["widgets"][key])
    return {"order": order, "prefill": prefill, "widgets": widgets}


def needed_materials(materials: list[BundleMaterial], item_ids: set[str]) -> list[BundleMaterial]:
    """The materials the members with these item ids (strings, as in ``mapping``) need: one rule
    for the guide after the questionnaire, the application's materials step, the combined
    materials and the missing-materials check. A material only members that do not apply ask
    for (a company's 公司章程 for a 个体工商户) is left out."""
    return [m for m in materials if item_ids & set(m.mapping)]


def combined_materials(bundle: Bundle, members: list[BundleMember]) -> list[dict[str, Any]]:
    """The material elements for these members (``needed_materials``): each needed material once;
    ``requirement`` "required" when one of them requires it."""
    int_ids = {m.item_id for m in members}
    out = []
    for m in needed_materials(list(bundle.materials.all()), {str(i) for i in int_ids}):
        required = bool(int_ids & set(m.required_for))
        out.append(
            {
                "name": m.name,
                **m.element,
                "requirement": "required" if required else "conditional",
                "condition": "",
            }
        )
    return out
