from __future__ import annotations

import re

import pytest
from django.db import connection

from yiwang.cases import numbering, services
from yiwang.cases.models import Case, CaseNumberSequence, CaseState, OutboxMessage
from yiwang.core.errors import NotPermitted, ValidationFailed
from yiwang.core.models import AuditEntry
from yiwang.workflow import selectors as wf

from .conftest import filled_application, submitted_case


def test_submit_creates_case_with_number_process_audit_and_outbox(world, django_capture_on_commit_callbacks):
    app = filled_application(world)
    with django_capture_on_commit_callbacks(execute=False):
        case = services.submit(app, user=world.applicant)
    assert re.fullmatch(r"350102\d{8}000001", case.number)
    assert case.state == CaseState.SUBMITTED
    assert len(case.check_code) == 6
    assert case.applicant_name == world.person.name
    assert case.department == world.dept and case.region == world.regions["county"]
    assert [t.spec_name for t in wf.open_tasks(case)] == ["accept"]
    assert case.materials.count() == 2
    assert AuditEntry.objects.filter(action="cases.submit", object_id=str(case.pk)).exists()
    sms = OutboxMessage.objects.get(case=case, channel="sms")
    assert sms.sent_at is None and world.person.phone_masked == sms.recipient_masked
    assert world.person.phone_masked[-4:] not in sms.recipient_cipher


def test_submit_is_idempotent(world):
    app = filled_application(world)
    first = services.submit(app, user=world.applicant)
    again = services.submit(app, user=world.applicant)
    by_key = services.submit_by_key(app.idempotency_key, user=world.applicant)
    assert first.pk == again.pk == by_key.pk
    assert Case.objects.count() == 1
    # The same key from the form starts no second draft either.
    same = services.start_application(world.applicant, world.item, idempotency_key=app.idempotency_key)
    assert same.pk == app.pk


def test_numbers_are_sequential_per_region_and_day(world):
    numbers = [submitted_case(world).number for _ in range(3)]
    assert [n[-6:] for n in numbers] == ["000001", "000002", "000003"]
    assert len(set(numbers)) == 3
    assert CaseNumberSequence.objects.get().last == 3


def test_sequence_upsert_inside_transaction_is_the_lock_path(db):
    import datetime as dt

    day = dt.date(2026, 2, 14)
    assert [numbering.next_sequence("350102", day) for _ in range(3)] == [1, 2, 3]
    assert numbering.next_sequence("350200", day) == 1
    assert numbering.case_number("350102001", day) == "35010220260214000004"


def test_incomplete_application_is_refused_with_every_problem(world):
    app = services.start_application(world.applicant, world.item)
    services.save_draft(app, user=world.applicant, data={"applicant_name": "", "phone": "12"})
    with pytest.raises(ValidationFailed) as exc:
        services.submit(app, user=world.applicant)
    fields = {e.field for e in exc.value.errors}
    assert {"applicant_name", "phone", "material:食品经营许可申请书", "material:营业执照"} <= fields
    assert Case.objects.count() == 0


def test_courier_needs_an_address(world):
    app = filled_application(world)
    services.save_draft(app, user=world.applicant, data=app.data, delivery_method="courier")
    with pytest.raises(ValidationFailed) as exc:
        services.submit(app, user=world.applicant)
    assert exc.value.errors[0].field == "delivery_address"
    services.save_draft(app, user=world.applicant, data=app.data, delivery_address="福州市鼓楼区五四路1号")
    case = services.submit(app, user=world.applicant)
    assert case.delivery_method == "courier"
    assert "五四路" not in app.__class__.objects.get(pk=app.pk).delivery_address_cipher
    assert services.delivery_address_of(case.application) == "福州市鼓楼区五四路1号"


def test_someone_else_cannot_submit_a_draft(world):
    app = filled_application(world)
    with pytest.raises(NotPermitted):
        services.submit(app, user=world.outsider)


def test_unpublished_item_cannot_be_applied_for(world):
    from tests import factories

    std = factories.standard_item("01020000300", name="未发布事项")
    draft_item = factories.implementation(std, world.dept)
    with pytest.raises(Exception, match="尚未发布"):
        services.start_application(world.applicant, draft_item)


def test_counter_entry_only_by_a_clerk_of_the_department(world):
    with pytest.raises(NotPermitted):
        services.start_application(world.applicant, world.item, channel="counter", entered_by=world.far_clerk)
    app = services.start_application(world.applicant, world.item, channel="counter", entered_by=world.clerk)
    services.save_draft(app, user=world.clerk, data={**app.data})
    assert app.channel == "counter" and app.entered_by == world.clerk


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and threads: PostgreSQL only")
def test_concurrent_submissions_on_postgresql(transactional_db, world):
    import threading

    from django.db import connections

    w = world
    apps = [filled_application(w) for _ in range(8)]
    double = apps[0]
    results: list = []
    errors: list = []

    def go(app):
        try:
            results.append(services.submit(app, user=w.applicant).number)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=go, args=(a,)) for a in [*apps, double, double]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert Case.objects.count() == 8
    assert len(set(Case.objects.values_list("number", flat=True))) == 8
    assert len(set(results)) == 8
