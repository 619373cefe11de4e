"""Login names typed as ID or phone numbers, in any spelling, never reach the audit log or the
server log in clear; a successful login is recorded as the account's own action."""

from __future__ import annotations

import io
import json
import logging
import re
import unicodedata

import pytest
from django.urls import reverse

from yiwang.core.audit import verify_chain
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db

ID = "350102198503150110"
PHONE = "13905910001"
SPELLINGS = [
    ID + "a",
    "350102 198503150110",
    "350102-1985-0315-0110",
    "３５０１０２１９８５０３１５０１１０",
    "35010219850315011X",  # not the same number: the check letter of another person's
    "350102850315011",
    "+86" + PHONE,
    "0086 139 0591 0001",
    "86-139-0591-0001",
    "１３９０５９１０００１",
    PHONE + "x",
]
# What must not appear: each number's middle digits (the birth date, the phone's middle block).
SECRETS = ["19850315", "850315011", PHONE, "1390591"]


def digits(text: str) -> str:
    return re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", text))


def assert_clear_of_numbers(text: str) -> None:
    found = digits(text)
    for secret in SECRETS:
        assert secret not in found, f"{secret} in {text!r}"


@pytest.fixture
def handler_output():
    """What the configured handlers write (settings.LOGGING's console on the root logger), plus
    a plain handler with no filter of ours, as a deployment or gunicorn's access log adds."""
    buffer = io.StringIO()
    root = logging.getLogger()
    streams = [h for h in root.handlers if isinstance(h, logging.StreamHandler) and not hasattr(h, "records")]
    assert streams, "settings.LOGGING puts a stream handler on the root logger"
    old = [h.setStream(buffer) for h in streams]
    plain = logging.StreamHandler(buffer)
    plain.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root.addHandler(plain)
    try:
        yield buffer
    finally:
        root.removeHandler(plain)
        for h, stream in zip(streams, old, strict=True):
            h.setStream(stream)


@pytest.mark.parametrize("login", SPELLINGS)
def test_failed_logins_leave_no_number_in_the_audit_or_server_log(
    client, user, login, caplog, handler_output
):
    caplog.set_level(logging.INFO)
    # Six failures: the sixth is refused during the cool-off, which the server log reports.
    for _ in range(6):
        resp = client.post(reverse("auth:login"), {"login": login, "password": "wrong"})
        assert resp.status_code == 400
    entries = list(AuditEntry.objects.all())
    assert {e.action for e in entries} >= {"identity.login.failed", "identity.login.locked"}
    for e in entries:
        for value in (e.summary, e.actor_label, e.object_id, json.dumps(e.detail, ensure_ascii=False)):
            assert_clear_of_numbers(value)
    assert verify_chain().ok  # masked before hashing: the chain holds exactly what is stored
    assert "login refused during cool-off" in caplog.text
    assert_clear_of_numbers(caplog.text)
    for record in caplog.records:
        assert_clear_of_numbers(record.getMessage())
    written = handler_output.getvalue()
    assert "login refused during cool-off" in written
    assert_clear_of_numbers(written)


def test_numbers_split_across_arguments_and_in_tracebacks_are_masked(caplog, handler_output):
    log = logging.getLogger("yiwang.test.masking")
    log.warning("lookup %s%s from %s", "350102", "198503150110", "+86 139 0591 0001")
    try:
        raise ValueError(f"bad login {ID}a")
    except ValueError:
        log.exception("failed")
    # A logger that does not propagate, with its own handler (gunicorn's access log does this).
    access = logging.getLogger("yiwang.test.access")
    access.propagate = False
    access.addHandler(logging.StreamHandler(handler_output))
    try:
        access.warning('"GET /search/?q=%s HTTP/1.1" 200', "139-0591-0001")
    finally:
        access.handlers.clear()
        access.propagate = True
    assert "3****************0" in caplog.text
    assert_clear_of_numbers(caplog.text)
    written = handler_output.getvalue()
    assert "ValueError: bad login 3****************0a" in written and "/search/?q=139****0001" in written
    assert_clear_of_numbers(written)


def test_successful_login_names_the_account(client, user, password):
    resp = client.post(reverse("auth:login"), {"login": "zhangsan", "password": password})
    assert resp.status_code == 302
    for action in ("identity.login.succeeded", "identity.session.started"):
        entry = AuditEntry.objects.get(action=action)
        assert (entry.actor_id, entry.actor_label) == (user.pk, "zhangsan")
        assert entry.channel == "web" and entry.ip == "127.0.0.1"


def test_login_by_id_number_names_the_account_and_masks_the_number(client, person, password):
    from tests.identity.auth.conftest import ID_NUMBER

    spaced = f"{ID_NUMBER[:6]} {ID_NUMBER[6:14]} {ID_NUMBER[14:]}"
    client.post(reverse("auth:login"), {"login": spaced, "password": "wrong"})
    client.post(reverse("auth:login"), {"login": ID_NUMBER, "password": password})
    entry = AuditEntry.objects.get(action="identity.login.succeeded")
    assert (entry.actor_id, entry.actor_label) == (person.user_id, "lisi")
    for e in AuditEntry.objects.all():
        text = digits(e.summary + json.dumps(e.detail))
        assert "19491231" not in text
