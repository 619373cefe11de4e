from __future__ import annotations

import pytest

from yiwang.cases import services
from yiwang.cases.models import OutboxMessage
from yiwang.cases.notifiers import ConsoleNotifier, FakeSmsGateway

from .conftest import filled_application


def test_outbox_is_sent_after_commit_through_the_gateway(world, django_capture_on_commit_callbacks):
    app = filled_application(world)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case = services.submit(app, user=world.applicant)
    assert FakeSmsGateway.sent == []  # nothing leaves before the commit
    msg = OutboxMessage.objects.get(case=case, channel="sms")
    from yiwang.cases.tasks import send_outbox

    send_outbox.delay([msg.pk])
    assert len(callbacks) >= 1
    assert len(FakeSmsGateway.sent) == 1
    assert case.number in FakeSmsGateway.sent[0]["text"]
    msg.refresh_from_db()
    assert msg.sent_at is not None and msg.attempts == 1


def test_gateway_failure_is_retried(world):
    app = filled_application(world)
    case = services.submit(app, user=world.applicant)
    FakeSmsGateway.fail_next = 1
    assert services.send_messages() == 0
    msg = OutboxMessage.objects.get(case=case, channel="sms")
    assert msg.sent_at is None and msg.attempts == 1 and "unavailable" in msg.error
    assert services.send_messages() == 1
    msg.refresh_from_db()
    assert msg.sent_at is not None and msg.error == ""


def test_console_notifier_masks(caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="yiwang.notify"):
        ConsoleNotifier().send(recipient="13800138000", subject="s", text="电话 13800138000")
    assert "13800138000" not in caplog.text and "138****8000" in caplog.text


def test_a_message_being_sent_by_one_job_is_skipped_by_another(transactional_db, world):
    """PostgreSQL: the step's own job and the periodic resend claim each message under a row lock
    (skip locked), so they never both send it."""
    import threading

    import pytest
    from django.db import connection, transaction

    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip("row locks between connections: PostgreSQL")
    case = services.submit(filled_application(world), user=world.applicant)
    msg = OutboxMessage.objects.get(case=case, channel="sms")
    # The submission's own job ran at its commit (eager jobs here): make the message unsent again.
    OutboxMessage.objects.filter(pk=msg.pk).update(sent_at=None, attempts=0)
    FakeSmsGateway.sent.clear()
    held, release = threading.Event(), threading.Event()

    def other_job() -> None:  # holds the claim as a job in the middle of its gateway call would
        with transaction.atomic():
            OutboxMessage.objects.select_for_update().get(pk=msg.pk)
            held.set()
            release.wait(10)
        connection.close()

    t = threading.Thread(target=other_job)
    t.start()
    held.wait(10)
    try:
        assert services.send_messages([msg.pk]) == 0  # skipped, not waited for, not sent twice
        assert FakeSmsGateway.sent == []
    finally:
        release.set()
        t.join()
    assert services.send_messages([msg.pk]) == 1 and len(FakeSmsGateway.sent) == 1


def test_a_steps_timeline_outbox_and_case_rows_are_written_with_it(world, django_capture_on_commit_callbacks):
    """A staff step writes its timeline line, its outbox messages and its case columns together
    at its end (one statement on PostgreSQL): all there afterwards, with their ids, and the
    messages handed to the after-commit job; a refused step writes none of them."""
    from yiwang.cases import actions, after_commit
    from yiwang.cases.models import CaseEvent
    from yiwang.core.errors import NotPermitted

    with django_capture_on_commit_callbacks() as callbacks:  # the test's transaction never commits
        case = services.submit(filled_application(world), user=world.applicant)
        before = set(OutboxMessage.objects.filter(case=case).values_list("pk", flat=True))
        with pytest.raises(NotPermitted):
            actions.Accept(case, world.far_clerk).run()
        assert not CaseEvent.objects.filter(case=case, kind="accepted").exists()
        case = actions.Accept(case, world.clerk).run()
    event = CaseEvent.objects.get(case=case, kind="accepted")
    assert event.actor_id == world.clerk.pk
    new = set(OutboxMessage.objects.filter(case=case).values_list("pk", flat=True)) - before
    handed = {i for cb in callbacks if isinstance(cb, after_commit._Batch) for i in cb.outbox_ids}
    assert new and new <= handed
    case.refresh_from_db()
    assert case.state == "accepted" and case.accepted_on is not None and case.due_date is not None
