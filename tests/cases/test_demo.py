from __future__ import annotations

from django.core.management import call_command

from tests import factories
from yiwang.cases.models import Case
from yiwang.catalog import services as catalog


def test_demo_cases_in_every_state(db, django_capture_on_commit_callbacks, capsys):
    regions = factories.region_tree()
    dept = factories.department(regions["county"])
    catalog.publish(factories.implementation(factories.standard_item(), dept))
    with django_capture_on_commit_callbacks(execute=False):
        call_command("load_demo_cases")
    states = set(Case.objects.values_list("state", flat=True))
    assert states == {
        "submitted",
        "correction_requested",
        "accepted",
        "suspended",
        "approved",
        "denied",
        "refused",
        "delivered",
        "closed",
    }
    assert Case.objects.count() == 10
    call_command("load_demo_cases")  # idempotent
    assert Case.objects.count() == 10
    out = capsys.readouterr().out
    assert "已存在" in out and "clerk" in out and "chenyt" in out
