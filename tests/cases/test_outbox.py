from __future__ import annotations

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
