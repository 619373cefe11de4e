"""The result kind (审批结果类型): inherited from the standard item, checked at publication, derived
once for older data by a migration, and set sensibly by the generator."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from tests import factories as f
from yiwang.catalog import services
from yiwang.catalog.generator.standards import catalogue_specs, result_of
from yiwang.catalog.models import ServiceItem, ServiceItemVersion, StandardItem
from yiwang.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db


@pytest.fixture
def dept():
    return f.department(f.region_tree()["county"])


@pytest.mark.parametrize("kind", ["certificate", "revocation"])
def test_publication_refuses_a_certificate_kind_without_its_type(dept, kind):
    std = f.standard_item(result_name="食品经营许可证", result_kind=kind)
    item = f.implementation(std, dept)
    with pytest.raises(ValidationFailed) as err:
        services.publish(item)
    fields = {e.field: e.message for e in err.value.errors}
    assert "result_certificate_type" in fields and "证照类型" in fields["result_certificate_type"]
    item.result_certificate_type = "食品经营许可证"
    item.save()
    version = services.publish(item)
    assert version.elements["result_kind"] == kind
    assert version.elements["result_certificate_type"] == "食品经营许可证"


def test_blank_kind_inherits_and_a_decision_names_no_certificate(dept):
    std = f.standard_item(result_kind="certificate", result_certificate_type="食品经营许可证")
    item = f.implementation(std, dept)
    e = services.effective_elements(item)
    assert (e["result_kind"], e["result_certificate_type"]) == ("certificate", "食品经营许可证")
    item.result_kind = "decision"
    item.save()
    e = services.effective_elements(item)
    assert (e["result_kind"], e["result_certificate_type"]) == ("decision", "")
    # Nothing set anywhere reads as a decision letter.
    plain = f.implementation(f.standard_item("01020000200", name="小餐饮"), dept)
    assert services.effective_elements(plain)["result_kind"] == "decision"


def test_migration_derives_the_kind_once_from_the_old_rule(dept):
    licence = f.standard_item(result_name="食品经营许可证")
    cancel = f.standard_item("01020000204", name="食品经营许可（注销）", result_name="食品经营许可证")
    letter = f.standard_item("01020000300", name="食品小作坊登记", result_name="准予登记决定书")
    item = f.implementation(licence, dept)
    version = services.publish(item)
    # A version published before the element existed.
    elements = {k: v for k, v in version.elements.items() if not k.startswith("result_k")}
    elements.pop("result_certificate_type")
    ServiceItemVersion.objects.filter(pk=version.pk).update(elements=elements)
    own = f.implementation(letter, dept, result_name="登记证")

    migration = importlib.import_module("yiwang.catalog.migrations.0009_derive_result_kind_once")
    migration.forwards(apps, None)
    migration.forwards(apps, None)  # a second run changes nothing

    def kind(model, pk):
        row = model.objects.get(pk=pk)
        return row.result_kind, row.result_certificate_type

    assert kind(StandardItem, licence.pk) == ("certificate", "食品经营许可证")
    assert kind(StandardItem, cancel.pk) == ("revocation", "食品经营许可证")
    assert kind(StandardItem, letter.pk) == ("", "")
    assert kind(ServiceItem, own.pk) == ("certificate", "登记证")
    assert kind(ServiceItem, item.pk) == ("", "")  # inherits from its standard item
    e = ServiceItemVersion.objects.get(pk=version.pk).elements
    assert (e["result_kind"], e["result_certificate_type"]) == ("certificate", "食品经营许可证")


def test_generator_revokes_on_deregistration_and_never_issues():
    specs = catalogue_specs()
    cancels = [s for s in specs if s.variant == "注销"]
    assert cancels
    for s in cancels:
        kind, cert_type = result_of(s)
        assert kind != "certificate"
        if kind == "revocation":
            assert cert_type == s.result
    assert any(result_of(s)[0] == "revocation" for s in cancels)
    licences = [
        s for s in specs if s.item_type == "licensing" and not s.variant and s.result.endswith("许可证")
    ]
    assert licences and all(result_of(s) == ("certificate", s.result) for s in licences)
    assert all(result_of(s)[0] == "none" for s in specs if s.item_type == "inspection")
