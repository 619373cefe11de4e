"""Reads for the task inbox and the state of a case's process."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from yiwang.identity.models import Role, StaffRole

from .models import ProcessBinding, Task, TaskState, WorkflowInstance

STAFF_ROLES_BY_STEP_ROLE = {
    "counter_clerk": {Role.COUNTER_CLERK},
    "approver": {Role.APPROVER},
    "department_head": {Role.DEPARTMENT_HEAD},
}


def open_tasks(case) -> QuerySet[Task]:
    return Task.objects.filter(case_id=case.pk, state=TaskState.OPEN).order_by("created_at")


def is_finished(case) -> bool:
    return WorkflowInstance.objects.filter(case_id=case.pk, finished=True).exists()


def inbox(
    user, *, state: str | None = TaskState.OPEN, spec_name: str | None = None, order: str = "due"
) -> QuerySet[Task]:
    """The tasks a staff member may work: assigned to them, or open to their role in a
    department (or region) of theirs and not assigned to someone else."""
    roles = list(StaffRole.objects.filter(user=user).select_related("region"))
    q = Q(assignee=user)
    for sr in roles:
        step_roles = [k for k, v in STAFF_ROLES_BY_STEP_ROLE.items() if sr.role in v]
        if not step_roles:
            continue
        scope = Q(role__in=step_roles, assignee__isnull=True)
        if sr.department_id:
            scope &= Q(department_id=sr.department_id)
        elif sr.region_id:
            scope &= Q(region_path__startswith=sr.region.path)
        q |= scope
    qs = Task.objects.filter(q).exclude(role="applicant")
    if state:
        qs = qs.filter(state=state)
    if spec_name:
        qs = qs.filter(spec_name=spec_name)
    ordering = {"due": ["due_date", "created_at", "pk"], "new": ["-created_at", "pk"]}.get(
        order, ["due_date", "pk"]
    )
    return qs.order_by(*ordering)


def may_work(user, task: Task) -> bool:
    if task.assignee_id:
        return task.assignee_id == user.pk
    return inbox(user).filter(pk=task.pk).exists()


def bound_processes(item_ids: list[int]) -> dict[int, dict]:
    """item id -> the bound process as the published guide shows it (key, version, name,
    approval steps); items running the default template are absent. One query."""
    rows = ProcessBinding.objects.filter(item_id__in=item_ids).values(
        "item_id", "definition__key", "definition__version", "definition__name", "definition__approval_steps"
    )
    return {
        r["item_id"]: {
            "key": r["definition__key"],
            "version": r["definition__version"],
            "name": r["definition__name"],
            "approval_steps": r["definition__approval_steps"],
        }
        for r in rows
    }
