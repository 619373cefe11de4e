"""Process definitions (BPMN 2.0), their binding to items, running instances and the task inbox.

SpiffWorkflow runs the process but neither persists, schedules nor indexes it (DESIGN.md): each
case's workflow is kept serialized in ``WorkflowInstance.state``; ``Task`` is the relational
index the inboxes read (assignee, department, region, due date); ``next_timer_at`` is swept by a
periodic job. ``case_id`` is a plain column (the cases app owns cases and never deletes them);
``item_id`` (the case's implementation) is copied onto each task so that the inbox can filter by
item with an index instead of a semi-join through the cases table.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.fields import ValuesInsertJSONField


class ProcessDefinition(models.Model):
    key = models.SlugField(_("流程标识"), max_length=64)
    version = models.PositiveIntegerField(_("版本"), default=1)
    name = models.CharField(_("流程名称"), max_length=100)
    process_id = models.CharField(_("BPMN 流程 ID"), max_length=100)
    bpmn_xml = models.TextField(_("BPMN 2.0 XML"))
    approval_steps = models.PositiveSmallIntegerField(_("审批环节数"), default=0)
    checksum = models.CharField(max_length=64)
    is_template = models.BooleanField(_("系统模板"), default=False)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    created_by = models.CharField(_("上传人"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("办理流程")
        verbose_name_plural = _("办理流程")
        ordering = ["key", "-version"]
        constraints = [models.UniqueConstraint(fields=["key", "version"], name="process_key_version_unique")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class ProcessBinding(models.Model):
    """Which process an implementation runs (default: the template for instant or promise items)."""

    item = models.OneToOneField(
        "catalog.ServiceItem",
        verbose_name=_("事项"),
        on_delete=models.CASCADE,
        related_name="process_binding",
    )
    definition = models.ForeignKey(
        ProcessDefinition, verbose_name=_("流程定义"), on_delete=models.PROTECT, related_name="bindings"
    )
    bound_at = models.DateTimeField(_("绑定时间"), auto_now=True)

    class Meta:
        verbose_name = _("事项流程绑定")
        verbose_name_plural = _("事项流程绑定")

    def __str__(self) -> str:
        return f"{self.item_id} → {self.definition}"


class WorkflowInstance(models.Model):
    case_id = models.BigIntegerField(unique=True)
    definition = models.ForeignKey(ProcessDefinition, on_delete=models.PROTECT, related_name="instances")
    state = ValuesInsertJSONField()
    # Not indexed: every "is it finished" question names the case (case_id is unique), and the
    # timer sweep reads next_timer_at; an index here would turn the last step's save into a
    # non-HOT update.
    finished = models.BooleanField(default=False)
    next_timer_at = models.DateTimeField(null=True, blank=True, db_index=True)
    steps = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("流程实例")
        verbose_name_plural = _("流程实例")

    def __str__(self) -> str:
        return f"case {self.case_id} ({self.definition.key})"


class TaskState(models.TextChoices):
    OPEN = "open", _("待办")
    COMPLETED = "completed", _("已办")
    CANCELLED = "cancelled", _("已取消")


class Task(models.Model):
    """One user task of a case's process, as the inbox sees it."""

    # Every open task is written into each index below twice in its life (opened, completed: the
    # state change is not a HOT update), so single-column indexes that a composite one already
    # leads with are left out: instance (task_uuid_unique), case_id (task_case_state), department
    # (task_dept_inbox), assignee (task_assignee_inbox). completed_by has none: accounts are
    # deactivated, not deleted, so SET_NULL never has to find a user's rows.
    instance = models.ForeignKey(
        WorkflowInstance, on_delete=models.CASCADE, related_name="tasks", db_index=False
    )
    case_id = models.BigIntegerField()
    # The case's implementation (catalog.ServiceItem), copied when the task opens: a case never
    # changes item. Plain column like case_id; null only for tasks older than the column that the
    # data migration could not match to a case.
    item_id = models.BigIntegerField(null=True, blank=True)
    task_uuid = models.UUIDField()
    spec_name = models.CharField(_("环节"), max_length=64)
    label = models.CharField(_("环节名称"), max_length=100)
    role = models.CharField(_("办理角色"), max_length=24)
    decisions = models.JSONField(_("可选决定"), default=list)
    state = models.CharField(_("状态"), max_length=12, choices=TaskState.choices, default=TaskState.OPEN)
    department = models.ForeignKey(
        "regions.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="workflow_tasks",
        db_index=False,
    )
    region_path = models.CharField(max_length=64, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="workflow_tasks",
        db_index=False,
    )
    due_date = models.DateField(_("办理期限"), null=True, blank=True)
    created_at = models.DateTimeField(_("到达时间"), auto_now_add=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    decision = models.CharField(_("决定"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("待办任务")
        verbose_name_plural = _("待办任务")
        indexes = [
            models.Index(fields=["department", "state", "due_date"], name="task_dept_inbox"),
            models.Index(fields=["assignee", "state", "due_date"], name="task_assignee_inbox"),
            models.Index(fields=["case_id", "state"], name="task_case_state"),
            # The workbench inbox asks, per scope, for the open unassigned tasks of one role in one
            # department (optionally one step) in due-date order, one page at a time. With
            # (department, state, due_date) alone PostgreSQL reads every open task of the
            # department to find, say, the head's tasks among 100,000, so a page's cost grew with
            # the department's backlog; these partial indexes hold only open unassigned tasks and
            # walk them in page order, so a page costs the same at any backlog.
            models.Index(
                fields=["department", "role", "due_date", "created_at", "id"],
                condition=models.Q(state="open", assignee__isnull=True),
                name="task_open_dept_role",
            ),
            models.Index(
                fields=["department", "role", "spec_name", "due_date", "created_at", "id"],
                condition=models.Q(state="open", assignee__isnull=True),
                name="task_open_dept_role_step",
            ),
            # Assigned tasks only (it held every open task, and PostgreSQL picked it for the
            # department scopes' "assignee IS NULL" rows, then sorted them).
            models.Index(
                fields=["assignee", "spec_name", "due_date", "created_at", "id"],
                condition=models.Q(state="open", assignee__isnull=False),
                name="task_open_asg_step_due",
            ),
            # Keyset paging (workflow.selectors.inbox_slice): every scope x filter x order the
            # workbench offers walks one of these in page order from the cursor and stops after
            # a page, at any depth. Due-date order: the two above and *_item; newest first:
            # *_new (walked backwards). The assignee ones hold only assigned open tasks (transfers
            # and the applicant's corrections), so they cost nothing when a task opens unassigned.
            models.Index(
                fields=["department", "role", "item_id", "due_date", "created_at", "id"],
                condition=models.Q(state="open", assignee__isnull=True),
                name="task_open_dept_role_item",
            ),
            models.Index(
                fields=["department", "role", "created_at", "id"],
                condition=models.Q(state="open", assignee__isnull=True),
                name="task_open_dept_role_new",
            ),
            models.Index(
                fields=["department", "role", "spec_name", "created_at", "id"],
                condition=models.Q(state="open", assignee__isnull=True),
                name="task_open_dept_step_new",
            ),
            models.Index(
                fields=["department", "role", "item_id", "created_at", "id"],
                condition=models.Q(state="open", assignee__isnull=True),
                name="task_open_dept_item_new",
            ),
            models.Index(
                fields=["assignee", "due_date", "created_at", "id"],
                condition=models.Q(state="open", assignee__isnull=False),
                name="task_open_assignee_due",
            ),
            models.Index(
                fields=["assignee", "item_id", "due_date", "created_at", "id"],
                condition=models.Q(state="open", assignee__isnull=False),
                name="task_open_assignee_item",
            ),
            models.Index(
                fields=["assignee", "created_at", "id"],
                condition=models.Q(state="open", assignee__isnull=False),
                name="task_open_assignee_new",
            ),
            models.Index(
                fields=["assignee", "spec_name", "created_at", "id"],
                condition=models.Q(state="open", assignee__isnull=False),
                name="task_open_asg_step_new",
            ),
            models.Index(
                fields=["assignee", "item_id", "created_at", "id"],
                condition=models.Q(state="open", assignee__isnull=False),
                name="task_open_asg_item_new",
            ),
        ]
        constraints = [models.UniqueConstraint(fields=["instance", "task_uuid"], name="task_uuid_unique")]

    def __str__(self) -> str:
        return f"{self.label} (case {self.case_id})"
