"""The back office's case and message pages: a department's administrator (a catalogue
administrator of it) sees its cases and their messages, no other department's, and only sees
them (a case changes through the action classes; a message is written with what it reports).
The permission matrix (tests/security) plays every page for every actor; this is the list and
the writes."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests import factories
from tests.cases.conftest import staff, submitted_case
from tests.security.permission_world import client_for
from yiwang.cases.models import Case, OutboxMessage
from yiwang.catalog import services as catalog
from yiwang.identity.models import Role


def _client(user) -> Client:
    return client_for(user)  # past the back office's second-factor gate


def _admin(username: str, **scope):
    user = staff(username, Role.CATALOGUE_ADMIN, **scope)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


@pytest.fixture
def cases(world):
    own = submitted_case(world)
    far_item = factories.implementation(world.item.standard, world.far_dept, promised_limit_days=10)
    catalog.publish(far_item)
    far = submitted_case(world, far_item)
    for case in (own, far):
        if not OutboxMessage.objects.filter(case=case).exists():
            OutboxMessage.objects.create(channel="console", recipient_masked="***", template="t", case=case)
    return own, far


def test_department_admin_sees_only_its_departments_cases_and_messages(world, cases):
    own, far = cases
    client = _client(_admin("deptadmin", department=world.dept))
    page = client.get("/admin/cases/case/").content.decode()
    assert own.number in page and far.number not in page
    assert client.get(f"/admin/cases/case/{own.pk}/change/").status_code == 200
    assert client.get(f"/admin/cases/case/{far.pk}/change/").status_code == 302  # as if missing
    # The check code is the applicant's key to the public lookup, not the administrator's.
    assert own.check_code not in client.get(f"/admin/cases/case/{own.pk}/change/").content.decode()

    mine = OutboxMessage.objects.filter(case=own).first()
    theirs = OutboxMessage.objects.filter(case=far).first()
    assert client.get(f"/admin/cases/outboxmessage/{mine.pk}/change/").status_code == 200
    assert client.get(f"/admin/cases/outboxmessage/{theirs.pk}/change/").status_code == 302
    listed = client.get("/admin/cases/outboxmessage/").context["cl"].result_list
    assert {m.case_id for m in listed} == {own.pk}

    # A region's administrator sees the departments of the region; the province's sees all.
    county = _client(_admin("countyadmin", region=world.regions["county"]))
    assert {c.pk for c in county.get("/admin/cases/case/").context["cl"].result_list} == {own.pk}
    province = _client(_admin("provadmin"))
    assert {c.pk for c in province.get("/admin/cases/case/").context["cl"].result_list} == {own.pk, far.pk}


def test_department_admin_cannot_write_cases_or_messages(world, cases):
    own, _far = cases
    client = _client(_admin("deptadmin", department=world.dept))
    state = own.state
    response = client.post(f"/admin/cases/case/{own.pk}/change/", {"state": "approved"})
    assert response.status_code == 403
    assert Case.objects.get(pk=own.pk).state == state
    message = OutboxMessage.objects.filter(case=own).first()
    response = client.post(
        f"/admin/cases/outboxmessage/{message.pk}/change/",
        {"channel": "console", "recipient_masked": "x", "template": "t", "payload": "{}", "attempts": 0},
    )
    assert response.status_code == 403
    assert client.post(f"/admin/cases/outboxmessage/{message.pk}/delete/", {"post": "yes"}).status_code == 403
    assert OutboxMessage.objects.get(pk=message.pk).recipient_masked == message.recipient_masked
    page = client.get(f"/admin/cases/outboxmessage/{message.pk}/change/").content.decode()
    assert 'name="_save"' not in page  # the view page, no save button


def test_superuser_keeps_message_repair_and_no_case_editing(world, cases):
    own, _far = cases
    root = get_user_model().objects.create_superuser("root", password="x")
    client = _client(root)
    assert client.post(f"/admin/cases/case/{own.pk}/change/", {"state": "approved"}).status_code == 403
    message = OutboxMessage.objects.filter(case=own).first()
    page = client.get(f"/admin/cases/outboxmessage/{message.pk}/change/").content.decode()
    assert 'name="_save"' in page


def test_workbench_staff_are_not_sent_into_the_admin(world, cases):
    """The department head works in the workbench; the back office is for back-office accounts."""
    response = _client(world.head).get("/admin/cases/case/")
    assert response.status_code == 302 and "login" in response["Location"]
