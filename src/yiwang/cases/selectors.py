"""Reads of the cases app for pages and the API: my cases, a case with its timeline, the
public progress lookup and the time left."""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import connections, models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from yiwang.core.crypto import mask_id_number
from yiwang.core.links import url_with_last
from yiwang.core.rows import locked_row
from yiwang.workflow import selectors as wf_selectors
from yiwang.workflow.models import Task
from yiwang.worktime import selectors as worktime

from .models import (
    Application,
    Case,
    CaseEvent,
    CaseMaterial,
    CaseState,
    ClockPause,
    CorrectionRequest,
    Notice,
)

RUNNING = {CaseState.ACCEPTED, CaseState.UNDER_REVIEW, CaseState.SUSPENDED}


def cases_of(user: User | AnonymousUser, *, company_id: int | None = None) -> QuerySet[Case]:
    """The applicant's cases, newest first (also those a company's agent filed in their name);
    none for the anonymous visitor. ``company_id``: only those filed for that company."""
    if not isinstance(user, User):
        return Case.objects.none()
    cases = Case.objects.filter(applicant=user)
    if company_id is not None:
        cases = cases.filter(company_id=company_id)
    return cases.select_related("department").order_by("-submitted_at", "-pk")


@dataclass
class TimeLeft:
    due: dt.date | None
    days_left: int | None
    state: str  # green / yellow / red / paused / none
    paused: bool = False
    warnings: list[str] = field(default_factory=list)


def time_left(
    case: Case, today: dt.date | None = None, *, pauses: list[ClockPause] | None = None
) -> TimeLeft:
    """``pauses``: the case's clock pauses when the caller has read them already."""
    if case.accepted_on is None or case.limit_days is None or case.state not in RUNNING:
        return TimeLeft(case.due_date, None, "none")
    spans = [(p.start, p.end) for p in (case.pauses.all() if pauses is None else pauses)]
    clock = worktime.case_clock(case.accepted_on, case.limit_days, spans, today=today)
    return TimeLeft(clock.due, clock.days_left, clock.state, clock.paused, list(clock.warnings))


@dataclass
class CaseDetail:
    case: Case
    timeline: list[CaseEvent]
    materials: list
    notices: list[Notice]
    open_tasks: list
    correction: CorrectionRequest | None
    time: TimeLeft

    def set_links(self, material_view: str, notice_view: str, *args: Any) -> None:
        """``href`` on each material and notice: its view's URL with ``args`` and its pk, from
        one ``reverse`` per view rather than a ``{% url %}`` per link."""
        material_href = url_with_last(material_view, *args)
        notice_href = url_with_last(notice_view, *args)
        for m in self.materials:
            m.href = material_href(m.pk)
        for n in self.notices:
            n.href = notice_href(n.pk)


def case_detail(case_id: int, *, for_applicant: bool = False, case: Case | None = None) -> CaseDetail:
    """The case page's reads. ``case``: the case as the caller's permission check has just read
    it (with its department, region, application and item version), so it is not read again."""
    if case is None or case.pk != case_id:
        case = Case.objects.select_related("department", "region", "application", "item_version").get(
            pk=case_id
        )
    if connections[Case.objects.db].vendor == "postgresql":
        return _case_detail_in_one_statement(case, for_applicant)
    return _case_detail_orm(case, for_applicant)


def _case_detail_orm(case: Case, for_applicant: bool) -> CaseDetail:
    """``case_detail``'s reads as ORM queries: the portable path, and the reference the
    PostgreSQL statement (``_case_detail_in_one_statement``) is tested against."""
    events = case.events.all()
    if for_applicant:
        events = events.filter(visible_to_applicant=True)
    return CaseDetail(
        case=case,
        timeline=list(events),
        materials=list(case.materials.filter(replaced=False)),
        notices=list(case.notices.all()),
        open_tasks=list(wf_selectors.open_tasks(case)),
        correction=case.corrections.filter(resolved_at__isnull=True).order_by("-pk").first(),
        time=time_left(case),
    )


def _rows(model: type[models.Model], rows: list[dict[str, Any]] | None, db: str) -> list:
    """Model instances from ``row_to_json`` objects: each column's JSON value through its field's
    ``to_python`` (timestamps and dates arrive as ISO strings, JSON columns already decoded)."""
    fields = model._meta.concrete_fields
    names = [f.attname for f in fields]
    return [model.from_db(db, names, [f.to_python(r.get(f.column)) for f in fields]) for r in rows or ()]


def _case_detail_in_one_statement(case: Case, for_applicant: bool) -> CaseDetail:
    """``_case_detail_orm``'s reads (timeline, current materials, notices, open tasks, the open
    correction request, clock pauses) as one hand-written statement on PostgreSQL, each a JSON
    array of rows in the order of the ORM's queries. It is kept because the case page is the one
    staff and applicants open most: one round trip and one parse instead of up to six compiled
    queries (``bench/case_detail.py``). The open tasks are the workflow's own query
    (``workflow.selectors.open_tasks``) used as a subquery. It relies on ``Model.from_db`` and
    each field's ``to_python`` reading ``row_to_json`` values (``_rows``);
    tests/cases/test_selectors.py runs both paths against each other on PostgreSQL. Read only,
    so save signals do not apply; instances are built by ``from_db`` as the ORM builds them."""
    db = Case.objects.db
    tasks_sql, tasks_params = wf_selectors.open_tasks(case).query.sql_with_params()
    t = {m: m._meta.db_table for m in (CaseEvent, CaseMaterial, Notice, CorrectionRequest, ClockPause)}
    visible = "AND e.visible_to_applicant" if for_applicant else ""
    sql = f"""
        SELECT
          (SELECT json_agg(e ORDER BY e.at, e.id) FROM {t[CaseEvent]} e WHERE e.case_id = %s {visible}),
          (SELECT json_agg(m ORDER BY m.id) FROM {t[CaseMaterial]} m WHERE m.case_id = %s AND NOT m.replaced),
          (SELECT json_agg(n ORDER BY n.issued_at, n.id) FROM {t[Notice]} n WHERE n.case_id = %s),
          (SELECT json_agg(w ORDER BY w.created_at, w.id) FROM ({tasks_sql}) w),
          (SELECT row_to_json(c) FROM {t[CorrectionRequest]} c
            WHERE c.case_id = %s AND c.resolved_at IS NULL ORDER BY c.id DESC LIMIT 1),
          (SELECT json_agg(p ORDER BY p.start, p.id) FROM {t[ClockPause]} p WHERE p.case_id = %s)
    """  # noqa: S608 (table names from the models, values as parameters)
    with connections[db].cursor() as cursor:
        cursor.execute(sql, [case.pk, case.pk, case.pk, *tasks_params, case.pk, case.pk])
        events, materials, notices, tasks, correction, pauses = cursor.fetchone()
    corrections = _rows(CorrectionRequest, [correction] if correction else [], db)
    return CaseDetail(
        case=case,
        timeline=_rows(CaseEvent, events, db),
        materials=_rows(CaseMaterial, materials, db),
        notices=_rows(Notice, notices, db),
        open_tasks=_rows(Task, tasks, db),
        correction=corrections[0] if corrections else None,
        time=time_left(case, pauses=_rows(ClockPause, pauses, db)),
    )


def lookup(number: str, code: str) -> Case | None:
    """Public progress lookup: both the number and the check code must match (no hint which)."""
    number, code = (number or "").strip(), (code or "").strip().upper()
    if not number or not code:
        return None
    case = Case.objects.filter(number=number).select_related("department").first()
    if case is None or not hmac.compare_digest(case.check_code, code):
        return None
    return case


def verify_notice(number: str, code: str) -> Notice | None:
    """The notice a QR code or a typed notice number names, if its case's check code matches (no
    hint which of the two is wrong); None otherwise."""
    number, code = (number or "").strip(), (code or "").strip().upper()
    if not number or not code:
        return None
    notice = Notice.objects.filter(number=number).select_related("case", "case__department").first()
    if notice is None or not hmac.compare_digest(notice.case.check_code, code):
        return None
    return notice


def public_timeline(case: Case) -> list[dict[str, Any]]:
    """What an anonymous holder of the check code may see: steps and dates, no names or notes."""
    return [
        {"at": e.at, "label": e.label}
        for e in case.events.filter(visible_to_applicant=True).order_by("at", "pk")
    ]


STAFF_VIEW_ROLES = ("counter_clerk", "approver", "department_head", "supervisor")


def can_view_case(user: User | AnonymousUser | None, case: Case) -> bool:
    """The applicant, the company's legal representative or an agent with a mandate covering
    the item, and staff whose scope (any case-handling or supervision role) covers the case's
    department may see a case; pages and the API check this before showing it or its files."""
    if not isinstance(user, User):  # None or the anonymous visitor
        return False
    if case.applicant_id == user.pk:
        return True
    if case.company is not None:
        from yiwang.identity.services import acting_scope

        if acting_scope(getattr(user, "person", None), case.company, case.item).allowed:
            return True
    from yiwang.identity.selectors import department_scope_q
    from yiwang.regions.models import Department

    for role in STAFF_VIEW_ROLES:
        q = department_scope_q(user, role, department_id_field="pk", region_path_field="region__path")
        if Department.objects.filter(q, pk=case.department_id).exists():
            return True
    return False


@dataclass
class ChecklistRow:
    name: str
    required: bool
    source: str  # MaterialSource of the item: applicant / e_certificate / base_registry / government
    reusable: bool  # a provider holds it for this applicant now (provide_from_source would take it)
    provided: list[CaseMaterial]  # current rows
    faulty: bool
    note: str


def material_checklist(application: Application) -> list[ChecklistRow]:
    """One row per required material of the item version, with what has been provided: the
    applicant's per-material checklist and the clerk's materials viewer."""
    from . import providers

    current: dict[str, list[CaseMaterial]] = {}
    for m in application.materials.filter(replaced=False).order_by("pk"):
        current.setdefault(m.requirement, []).append(m)
    rows = []
    for req in application.item_version.elements.get("materials") or []:
        have = current.get(req["name"], [])
        faulty = [m for m in have if m.status == "faulty"]
        rows.append(
            ChecklistRow(
                name=req["name"],
                required=req.get("requirement", "required") == "required",
                source=req.get("source", "applicant"),
                reusable=providers.reusable(req, user=application.applicant, company=application.acting_for),
                provided=have,
                faulty=bool(faulty),
                note=faulty[0].note if faulty else "",
            )
        )
    return rows


# Where a record came from, as providers write it (``record["registry"]``), and its label.
RECORD_SOURCES = {
    "电子证照库": _("电子证照库"),
    "人口库": _("人口库"),
    "法人库": _("法人库"),
}


@dataclass(frozen=True)
class RecordCard:
    """A material taken from a registry or an e-certificate (``MaterialOrigin`` account,
    registry, e_certificate) as staff read it: labelled facts, never the record's keys. What is
    personal is masked (a person's name and ID number); a company's name and credit code are
    public registry data and stay whole, as on its e-certificates."""

    kind: str  # the certificate type, or which registry record
    holder: str
    number: str
    number_label: str
    issuer: str
    issued_on: str
    valid_until: str
    verified_at: dt.datetime | None
    source: str


def _date_of(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _masked_name(value: Any) -> str:
    from .personal import mask

    v = str(value or "")
    return v if "*" in v else mask("name", v)


def record_card(origin: str, record: dict[str, Any] | None) -> RecordCard | None:
    """The card of a material's ``record`` (None for an upload, or no record). Keys a provider
    did not write are left out, never shown raw."""
    if not record or origin not in ("account", "registry", "e_certificate"):
        return None
    registry = str(record.get("registry", ""))
    source = str(RECORD_SOURCES.get(registry, registry))
    verified_at = _date_of(record.get("verified_at"))
    if origin == "e_certificate":
        valid_until = str(record.get("valid_until", ""))
        return RecordCard(
            kind=str(record.get("type", "")),
            holder=_masked_name(record.get("holder", "")),
            number=str(record.get("number", "")),  # masked by the exchange app
            number_label=str(_("证照编号")),
            issuer=str(record.get("issuer", "")),
            issued_on=str(record.get("issued_on", "")),
            valid_until=str(_("长期")) if valid_until == "长期" else valid_until,
            verified_at=verified_at,
            source=source or str(_("电子证照库")),
        )
    if record.get("credit_code"):
        return RecordCard(
            kind=str(_("法人登记信息")),
            holder=str(record.get("name", "")),
            number=str(record["credit_code"]),
            number_label=str(_("统一社会信用代码")),
            issuer="",
            issued_on="",
            valid_until="",
            verified_at=verified_at,
            source=source or str(_("法人库")),
        )
    id_number = str(record.get("id_number", ""))
    return RecordCard(
        kind=str(_("居民身份信息")),
        holder=_masked_name(record.get("name", "")),
        number=id_number if "*" in id_number else mask_id_number(id_number) if id_number else "",
        number_label=str(_("身份证号")),
        issuer="",
        issued_on="",
        valid_until="",
        verified_at=verified_at,
        source=source or str(_("人口库")),
    )


def draft_for(user: User | AnonymousUser, application_id: int) -> Application | None:
    """The unsubmitted (or just submitted) application ``user`` may work on: their own, or one
    they entered at the counter. None for anyone else, so a page can answer 404 and reveal
    nothing about other people's drafts."""
    app = (
        Application.objects.select_related("item_version", "acting_for", "applicant")
        .filter(pk=application_id)
        .first()
    )
    if app is None:
        return None
    own = app.applicant_id == user.pk
    counter = app.channel == "counter" and app.entered_by_id == user.pk
    return app if (own or counter) else None


def case_of_application(application: Application) -> Case | None:
    return Case.objects.filter(application=application).only("pk", "number").first()


# What the applicant's pages use of a case: the permission check's company and item, and what
# ``case_detail`` needs, so that the case page reads its case once.
VIEWABLE_CASE_RELATED = ("department", "region", "company", "item", "application", "item_version")


def viewable_case(user: User | AnonymousUser | None, number: str) -> Case | None:
    """The case with this number if ``user`` may see it (``can_view_case``), else None. Read by
    a statement compiled once per connection (``core.rows``): the applicant's pages are among the
    most read, and building this join cost more CPU than running it."""
    try:
        case = locked_row(Case, str(number)[:24], VIEWABLE_CASE_RELATED, lock=False, by="number")
    except Case.DoesNotExist:
        return None
    return case if can_view_case(user, case) else None


def latest_cases(scope: models.Q, *, limit: int = 10, using: str = "default") -> list[dict[str, Any]]:
    """The ``limit`` cases made last within ``scope`` (a filter on the department, as the
    workbench's case scopes give), for the live dashboards: item name, region name, state label
    and the time of the last change. Nothing about the applicant is read. One query, newest by
    primary key (its index), so the cost does not grow with the number of cases."""
    rows = (
        Case.objects.using(using)
        .filter(scope)
        .order_by("-pk")
        .values("item_name", "region__name", "state", "updated_at")[:limit]
    )
    labels = dict(CaseState.choices)
    return [
        {
            "item": r["item_name"],
            "region": r["region__name"],
            "state": r["state"],
            "state_label": str(labels.get(r["state"], r["state"])),
            "at": r["updated_at"],
        }
        for r in rows
    ]
