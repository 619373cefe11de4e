"""``yiwang check-consistency`` (workflow.consistency): finds each way a process and its inbox
rows can disagree, and passes real cases moved by the real actions."""

from __future__ import annotations

import uuid

import pytest
from django.core.management import call_command

from tests.cases.conftest import _fast, submitted_case, world  # noqa: F401  (fixtures)
from yiwang.cases import actions
from yiwang.workflow import consistency
from yiwang.workflow.models import Task, TaskState, WorkflowInstance

pytestmark = pytest.mark.django_db


def run_command(capsys, *args: str) -> tuple[int, str]:
    try:
        call_command("check_consistency", *args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out + out.err


def test_cases_moved_by_the_actions_are_consistent(world, capsys):  # noqa: F811
    submitted_case(world)
    accepted = actions.Accept(submitted_case(world), world.clerk).run()
    actions.Review(accepted, world.approver, decision="pass").run()
    assert list(consistency.check()) == []
    code, out = run_command(capsys)
    assert code == 0
    assert "2 workflow instances checked, 0 problems" in out


def test_a_missing_inbox_row_is_found(world, capsys):  # noqa: F811
    case = submitted_case(world)
    Task.objects.filter(case_id=case.pk, state=TaskState.OPEN).delete()
    problems = list(consistency.check())
    assert len(problems) == 1 and "has no open inbox row" in problems[0].message
    code, out = run_command(capsys)
    assert code == 1 and f"case {case.pk}" in out and "1 problems" in out


def test_an_open_row_the_process_does_not_have_is_found(world):  # noqa: F811
    case = submitted_case(world)
    row = Task.objects.get(case_id=case.pk, state=TaskState.OPEN)
    row.pk, row.task_uuid = None, uuid.uuid4()
    row.save()
    problems = [p.message for p in consistency.check(case_ids=[case.pk])]
    assert problems == [f"open inbox row accept ({row.task_uuid}) is not a ready task of the process"]


def test_a_completed_row_still_ready_in_the_engine_is_found(world):  # noqa: F811
    """The crash that matters: the inbox row closed but the process state not saved."""
    case = submitted_case(world)
    Task.objects.filter(case_id=case.pk).update(state=TaskState.COMPLETED)
    assert any("has no open inbox row" in p.message for p in consistency.check())


def test_a_wrong_finished_flag_is_found(world):  # noqa: F811
    case = submitted_case(world)
    WorkflowInstance.objects.filter(case_id=case.pk).update(finished=True)
    assert [p.message for p in consistency.check()] == ["finished flag is True, the engine says False"]
