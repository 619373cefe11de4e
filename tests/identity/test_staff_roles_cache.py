"""The cached staff roles the workbench reads on every page (``identity.selectors.staff_roles``):
one query, then none, and every change made through ``save``/``delete`` seen at once."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f
from yiwang.identity.models import Role, StaffRole
from yiwang.identity.selectors import staff_roles, staff_roles_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def dept():
    return f.department(f.region_tree()["county"])


def _user(name: str):
    return get_user_model().objects.create_user(name, password="x" * 12)


def _held(user) -> list[tuple[str, int | None]]:
    return [(r.role, r.department_id) for r in staff_roles(user.pk)]


def test_roles_are_read_once_with_their_region(dept):
    user = _user("clerk")
    StaffRole.objects.create(user=user, role=Role.COUNTER_CLERK, department=dept, region=dept.region)
    assert _held(user) == [(Role.COUNTER_CLERK, dept.pk)]
    with CaptureQueriesContext(connection) as q:
        roles = staff_roles(user.pk)
        assert roles[0].region.path == dept.region.path  # the scope's path, without a query
    assert len(q) == 0


def test_a_granted_or_revoked_role_is_seen_at_once(dept):
    user = _user("approver")
    assert _held(user) == []
    role = StaffRole.objects.create(user=user, role=Role.APPROVER, department=dept, region=dept.region)
    assert _held(user) == [(Role.APPROVER, dept.pk)]
    role.role = Role.DEPARTMENT_HEAD
    role.save()
    assert _held(user) == [(Role.DEPARTMENT_HEAD, dept.pk)]
    StaffRole.objects.filter(pk=role.pk).delete()
    assert _held(user) == []


def test_a_role_given_to_another_account_leaves_its_old_holder(dept):
    a, b = _user("a"), _user("b")
    role = StaffRole.objects.create(user=a, role=Role.APPROVER, department=dept, region=dept.region)
    assert _held(a) and not _held(b)
    role.user = b
    role.save()
    assert not _held(a) and _held(b)


def test_a_new_account_never_sees_what_was_cached_under_its_id(dept):
    """SQLite reuses the ids of deleted rows: whatever sits in the cache under the id a new
    account gets is dropped when the account is created."""
    user = _user("old")
    StaffRole.objects.create(user=user, role=Role.APPROVER, department=dept, region=dept.region)
    pk = user.pk
    assert _held(user)
    cache.set(staff_roles_key(pk + 1), staff_roles(pk))  # as if a former account pk + 1 had roles
    newcomer = get_user_model().objects.create_user("new", password="x" * 12, pk=pk + 1)
    assert _held(newcomer) == []


def test_the_workbench_refuses_a_clerk_whose_last_role_was_revoked(client, dept, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = _user("leaving")
    role = StaffRole.objects.create(user=user, role=Role.APPROVER, department=dept, region=dept.region)
    client.force_login(user)
    assert client.get("/workbench/").status_code == 200
    role.delete()
    assert client.get("/workbench/").status_code == 403


@pytest.mark.parametrize(
    ("first", "last", "shown"),
    [("明", "陈", "陈明"), ("Anna", "Schmidt", "Anna Schmidt"), ("", "", "login-name"), ("", "欧阳", "欧阳")],
)
def test_an_account_without_a_person_is_named_as_its_language_writes_names(first, last, shown):
    from yiwang.identity.selectors import account_name

    assert account_name(first, last, "login-name") == shown


def test_the_transfer_list_names_chinese_colleagues_family_name_first(dept):
    from yiwang.identity.selectors import role_holders

    user = get_user_model().objects.create_user("chen", first_name="明", last_name="陈")
    StaffRole.objects.create(user=user, role=Role.APPROVER, department=dept, region=dept.region)
    assert role_holders(dept.pk, Role.APPROVER) == [(user.pk, "陈明")]


def test_the_header_name_is_cached_and_follows_a_rename(dept):
    from yiwang.identity.models import Person
    from yiwang.identity.selectors import display_name

    user = get_user_model().objects.create_user("lin", first_name="琳", last_name="林")
    assert display_name(user) == "林琳"
    with CaptureQueriesContext(connection) as q:
        assert display_name(user) == "林琳"
    assert len(q) == 0
    person = Person.objects.create(user=user, name="林小琳", id_number_cipher="x")
    assert display_name(user) == "林小琳"
    person.name = "林晓琳"
    person.save()
    assert display_name(user) == "林晓琳"
