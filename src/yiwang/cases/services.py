"""Writes of the cases app: item forms, drafts, materials, submission, notifications.

Staff actions on a case (accept, refuse, correction, review, decide, transfer, suspend/resume,
deliver, close) are action classes in ``actions``; they are re-exported here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.catalog.models import ServiceItem, ServiceItemVersion
from yiwang.core import audit
from yiwang.core.crypto import decrypt, encrypt, mask_text
from yiwang.core.errors import DomainError, FieldError, NotPermitted, ValidationFailed
from yiwang.core.files import is_unguessable, unguessable_name
from yiwang.core.rows import locked_row
from yiwang.identity.models import Company, Role
from yiwang.identity.selectors import account_name, can_manage_department
from yiwang.worktime import selectors as worktime

from . import after_commit, formschema, numbering, personal, providers, uploads
from .bulk import case_numbers
from .models import (
    Application,
    Case,
    CaseChannel,
    CaseEvent,
    CaseMaterial,
    CaseState,
    ClockPause,
    CorrectionRequest,
    Delivery,
    DeliveryMethod,
    ItemForm,
    MaterialOrigin,
    MaterialStatus,
    Notice,
    NoticeKind,
    OutboxChannel,
    OutboxMessage,
    PauseKind,
)
from .signals import case_submitted

if TYPE_CHECKING:
    from .notifiers import Notifier

ADDRESS_CONTEXT = "cases.delivery_address"
RECIPIENT_CONTEXT = "cases.outbox_recipient"


# --- item forms ---------------------------------------------------------------------------------


def form_of(item: ServiceItem) -> tuple[dict, dict]:
    """(schema, layout) of an item: its own form, or the default one."""
    form = ItemForm.objects.filter(item=item).first()
    if form is None:
        return formschema.default_schema(), formschema.default_layout()
    return form.schema, form.layout or {}


def save_item_form(
    item: ServiceItem, *, schema: Any, layout: Any, user: User | AnonymousUser | None
) -> ItemForm:
    """Catalogue administrators of the item's department set its form; a bad schema is refused."""
    if not can_manage_department(user, item.department):
        raise NotPermitted()
    problems = formschema.check_schema(schema, layout or {})
    if problems:
        raise ValidationFailed([FieldError("schema", p) for p in problems])
    with transaction.atomic():
        form, created = ItemForm.objects.update_or_create(
            item=item, defaults={"schema": schema, "layout": layout or {}, "updated_by": user}
        )
        audit.record(
            "cases.save_form",
            form,
            summary=_("修改申请表单：%(item)s") % {"item": item.code},
            detail={"fields": sorted(schema.get("properties", {})), "created": created},
        )
    return form


# --- drafts -------------------------------------------------------------------------------------


def _check_can_apply(user: User | AnonymousUser | None, item: ServiceItem, company: Company | None) -> User:
    """Refuse unless ``user`` may apply for ``item`` (for ``company``, when given); returns the
    account that applies."""
    if user is None or isinstance(user, AnonymousUser):
        raise NotPermitted(_("请先登录。"))
    if item.current_version_id is None:
        raise DomainError(_("该事项尚未发布，暂不能申请。"), code="not_published")
    if company is not None:
        from yiwang.identity.services import acting_scope

        person = getattr(user, "person", None)
        if not acting_scope(person, company, item).allowed:
            raise NotPermitted(_("您没有代表该单位办理此事项的授权。"))
    person = getattr(user, "person", None)
    level = person.assurance_level if person is not None else 1
    if level < (item.min_assurance_level or 1):
        raise NotPermitted(_("该事项要求更高的账户认证等级，请先完成实名核验。"), code="assurance")
    return user


def _check_counter_clerk(clerk: User | AnonymousUser | None, item: ServiceItem) -> User:
    """Refuse unless ``clerk`` is a counter clerk of the item's department; returns the clerk."""
    from .actions import has_role_for

    if (
        clerk is None
        or isinstance(clerk, AnonymousUser)
        or not has_role_for(clerk, Role.COUNTER_CLERK, item.department)
    ):
        raise NotPermitted(_("只有本部门的窗口受理人员可以代为录入申请。"))
    return clerk


def start_application(
    user: User | AnonymousUser | None,
    item: ServiceItem,
    *,
    acting_for: Company | None = None,
    channel: str = CaseChannel.WEB,
    entered_by: User | AnonymousUser | None = None,
    idempotency_key: str | None = None,
    form: tuple[dict, dict] | None = None,
) -> Application:
    """A new draft for ``item`` (its current version), prefilled from the account. ``form``:
    (schema, layout) to ask instead of the item's own (a bundle's combined form for the members
    that apply)."""
    applicant = _check_can_apply(user, item, acting_for)
    clerk = _check_counter_clerk(entered_by, item) if channel == CaseChannel.COUNTER else None
    schema, layout = form if form is not None else form_of(item)
    data = formschema.prefill_values(layout, user=applicant, company=acting_for)
    key = idempotency_key or uuid.uuid4().hex
    existing = Application.objects.filter(idempotency_key=key).first()
    if existing is not None:
        if existing.applicant_id != applicant.pk:
            raise NotPermitted()
        return existing
    app = Application(
        applicant=applicant,
        acting_for=acting_for,
        item_version=item.current_version,
        form_schema=formschema.snapshot(schema),
        form_layout=layout,
        idempotency_key=key,
        channel=channel,
        entered_by=clerk,
    )
    personal.seal_data(app, data)
    app.save()
    return app


def _check_owner(application: Application, user: User | AnonymousUser | None) -> User:
    """The applicant, or the counter clerk who entered the draft; checked at every write, so a
    right that ended after the draft began (a revoked or expired mandate, a clerk moved to
    another department) ends the draft's writes too. Returns ``user``, an account."""
    if user is None or isinstance(user, AnonymousUser):  # no account owns a draft
        raise NotPermitted()
    if application.applicant_id == user.pk:
        if application.acting_for is not None:
            from yiwang.identity.services import acting_scope

            item = application.item_version.item
            if not acting_scope(getattr(user, "person", None), application.acting_for, item).allowed:
                raise NotPermitted(_("您没有代表该单位办理此事项的授权。"))
        return user
    if application.channel == CaseChannel.COUNTER and application.entered_by_id == user.pk:
        return _check_counter_clerk(user, application.item_version.item)
    raise NotPermitted()


def save_draft(
    application: Application,
    *,
    user: User | AnonymousUser | None,
    data: dict[str, Any],
    delivery_method: str | None = None,
    delivery_address: str | None = None,
) -> dict[str, str]:
    """Keep what was typed (coerced by the schema) even if incomplete; returns the errors the
    submission would report, so the page can show them without refusing the draft."""
    _check_owner(application, user)
    if application.submitted_at is not None:
        raise DomainError(_("申请已提交，不能再修改草稿。"), code="submitted")
    personal.seal_data(application, formschema.coerce(application.form_schema, data))
    if delivery_method:
        if delivery_method not in DeliveryMethod.values:
            raise DomainError(_("请选择有效的送达方式。"), field="delivery_method")
        application.delivery_method = delivery_method
    if delivery_address is not None:
        application.delivery_address_cipher = (
            encrypt(delivery_address.strip(), context=ADDRESS_CONTEXT) if delivery_address.strip() else ""
        )
    application.save(
        update_fields=["data", "personal_cipher", "delivery_method", "delivery_address_cipher", "updated_at"]
    )
    return formschema.validate(
        application.form_schema, personal.open_data(application, reader=personal.SYSTEM)
    )


def delivery_address_of(obj: Application | Delivery) -> str:
    """The plain delivery address of a draft or of a delivery ("" when none was given)."""
    cipher = getattr(obj, "delivery_address_cipher", "") or getattr(obj, "address_cipher", "")
    return decrypt(cipher, context=ADDRESS_CONTEXT) if cipher else ""


# --- materials ----------------------------------------------------------------------------------


def required_materials(application: Application) -> list[dict[str, Any]]:
    return list(application.item_version.elements.get("materials") or [])


def _requirement(application: Application, name: str) -> dict[str, Any]:
    for m in required_materials(application):
        if m["name"] == name:
            return m
    raise DomainError(_("该事项没有名为“%(n)s”的申请材料。") % {"n": name}, field="requirement")


def upload_material(
    application: Application,
    *,
    requirement: str,
    uploaded: File,
    user: User | AnonymousUser | None,
    case: Case | None = None,
) -> CaseMaterial:
    """Check and store one uploaded file for a required material. A refused or failed upload
    leaves no file in storage and no row. After submission a file is accepted only as a
    correction of the case (``case`` given, the case waiting for the applicant's correction)."""
    owner = _check_owner(application, user)
    _requirement(application, requirement)
    _check_open_for_materials(application, case)
    checked = uploads.check_stream(
        uploaded.chunks(), getattr(uploaded, "name", ""), declared_size=getattr(uploaded, "size", None)
    )
    try:
        return _store_checked(application, [(requirement, checked)], owner, case)[0]
    finally:
        os.unlink(checked.temp_path)


@dataclass(frozen=True)
class UploadedMaterials:
    """What ``upload_materials`` did: the rows written, and each refused file's message by the
    name of its material."""

    materials: list[CaseMaterial]
    errors: dict[str, str]


def upload_materials(
    application: Application,
    *,
    files: dict[str, File],
    user: User | AnonymousUser | None,
) -> UploadedMaterials:
    """Check the files chosen for several materials of a draft at once ({material name: file},
    the materials page's files sent with 下一步) with the same checks as ``upload_material``, and
    store those that pass in one transaction. A refused file does not stop the others: its
    message comes back by its material's name, and it leaves nothing behind."""
    owner = _check_owner(application, user)
    _check_open_for_materials(application, None)
    errors: dict[str, str] = {}
    checked: list[tuple[str, uploads.CheckedFile]] = []
    try:
        # Checked (and rewritten) before the transaction opens: a sanitizer run of several
        # seconds must not hold the database's write lock.
        for name, uploaded in files.items():
            try:
                _requirement(application, name)
                checked.append(
                    (
                        name,
                        uploads.check_stream(
                            uploaded.chunks(),
                            getattr(uploaded, "name", ""),
                            declared_size=getattr(uploaded, "size", None),
                        ),
                    )
                )
            except DomainError as exc:
                errors[name] = "；".join(exc.messages)
        materials = _store_checked(application, checked, owner, None) if checked else []
    finally:
        for _name, c in checked:
            os.unlink(c.temp_path)
    return UploadedMaterials(materials, errors)


def _store_checked(
    application: Application,
    checked: list[tuple[str, uploads.CheckedFile]],
    owner: User,
    case: Case | None,
) -> list[CaseMaterial]:
    """Save checked files and write their rows in one transaction; on any failure no file and
    no row is left."""
    stored: list[str] = []
    try:
        directory = f"cases/materials/{timezone.localdate():%Y/%m}"
        for _name, c in checked:
            stored.append(uploads.store(c, directory))
        with transaction.atomic():
            return [
                CaseMaterial.objects.create(
                    application=application,
                    case=case,
                    requirement=name,
                    origin=MaterialOrigin.UPLOAD,
                    file=path,
                    content_type=c.content_type,
                    size=c.size,
                    sha256=c.sha256,
                    original_name=c.original_name,
                    uploaded_by=owner,
                )
                for (name, c), path in zip(checked, stored, strict=True)
            ]
    except BaseException:
        for path in stored:
            default_storage.delete(path)
        raise


def _check_open_for_materials(application: Application, case: Case | None) -> None:
    if case is None:
        if application.submitted_at is not None:
            raise DomainError(_("申请已提交，不能再修改材料。"), code="submitted")
        return
    if case.application_id != application.pk:
        raise NotPermitted()
    if case.state != CaseState.CORRECTION_REQUESTED:
        raise DomainError(_("办件当前不需要补正材料。"), code="state")


def provide_from_source(
    application: Application, *, requirement: str, user: User | AnonymousUser | None
) -> CaseMaterial:
    """Take a material from the account or a registry instead of an upload."""
    owner = _check_owner(application, user)
    req = _requirement(application, requirement)
    _check_open_for_materials(application, None)
    found = providers.fetch(req, user=application.applicant, company=application.acting_for)
    if found is None:
        raise DomainError(
            _("无法从账户或共享库取得“%(n)s”，请上传。") % {"n": requirement},
            field=requirement,
            code="unavailable",
        )
    with transaction.atomic():
        CaseMaterial.objects.filter(
            application=application, requirement=requirement, case__isnull=True, replaced=False
        ).update(replaced=True)
        material = CaseMaterial(
            application=application,
            requirement=requirement,
            origin=found.origin,
            record=found.record,
            uploaded_by=owner,
        )
        if found.file_bytes:
            # A certificate's copy holds a name: stored under an unguessable one (core.files).
            suffix = os.path.splitext(found.file_name or "")[1].lower() or ".pdf"
            material.file.save(unguessable_name(suffix), ContentFile(found.file_bytes), save=False)
            # The same facts as an upload's, so the viewer and downloads treat it alike.
            material.original_name = found.file_name or "certificate.pdf"
            material.content_type = "application/pdf" if found.file_bytes[:5] == b"%PDF-" else ""
            material.size = len(found.file_bytes)
            material.sha256 = hashlib.sha256(found.file_bytes).hexdigest()
        material.save()
    return material


def replace_certificate_copies(certificate_id: int, data: Callable[[], bytes]) -> int:
    """Give every material that is a copy of e-certificate ``certificate_id`` (origin
    ``e_certificate``) and is still stored under a name of its own making (not
    ``core.files.unguessable_name``) the certificate's current PDF (``data()``, asked for only
    when there is such a copy) under an unguessable name; the former file is deleted once no
    row points at it. Rows sharing one stored file (a bundle's branches) move together.
    Returns the rows changed. The exchange app's ``secure_document_files`` calls it after
    rendering a certificate again, so the copies no longer hold the full ID number."""
    formers = [
        f
        for f in CaseMaterial.objects.filter(
            origin=MaterialOrigin.E_CERTIFICATE, record__certificate_id=certificate_id
        )
        .exclude(file="")
        .values_list("file", flat=True)
        .distinct()
        if not is_unguessable(f)
    ]
    if not formers:
        return 0
    content = data()
    changed = 0
    for former in formers:
        name = default_storage.save(
            f"cases/materials/{timezone.localdate():%Y/%m}/{unguessable_name('.pdf')}", ContentFile(content)
        )
        try:
            with transaction.atomic():
                changed += CaseMaterial.objects.filter(file=former).update(
                    file=name, size=len(content), sha256=hashlib.sha256(content).hexdigest()
                )
        except BaseException:
            default_storage.delete(name)
            raise
        default_storage.delete(former)
    return changed


def current_materials(application: Application) -> dict[str, list[CaseMaterial]]:
    out: dict[str, list[CaseMaterial]] = {}
    for m in application.materials.filter(replaced=False).order_by("pk"):
        out.setdefault(m.requirement, []).append(m)
    return out


def missing_materials(application: Application) -> list[str]:
    # Only the names: the rows (file, record JSON ...) are not needed to know what is missing.
    have = set(application.materials.filter(replaced=False).values_list("requirement", flat=True))
    return [
        m["name"]
        for m in required_materials(application)
        if m.get("requirement", "required") == "required" and m["name"] not in have
    ]


def share_materials(source: Case, targets: list[tuple[int, int, dict[str, str]]]) -> dict[int, int]:
    """Give other cases the current materials of ``source`` (a bundle's shared materials): for
    each (application id, case id, names) of ``targets``, a row per material of ``source`` whose
    requirement is a key of ``names``, under the name ``names[requirement]``, pointing at the same
    stored file and registry record, in the order of ``targets`` and ``names``; one read and one
    INSERT. Returns the rows written per case id."""
    pairs = [(app_id, case_id, src, dst) for app_id, case_id, names in targets for src, dst in names.items()]
    if not pairs:
        return {}
    by_requirement: dict[str, list[dict[str, Any]]] = {}
    current = CaseMaterial.objects.filter(case=source, replaced=False).order_by("pk")
    for m in current.values("requirement", *_SHARED_MATERIAL_FIELDS):
        by_requirement.setdefault(m.pop("requirement"), []).append(m)
    rows = [
        CaseMaterial(application_id=app_id, case_id=case_id, requirement=dst, **m)
        for app_id, case_id, src, dst in pairs
        for m in by_requirement.get(src, ())
    ]
    CaseMaterial.objects.bulk_create(rows)
    written: dict[int, int] = {}
    for row in rows:
        written[row.case_id] = written.get(row.case_id, 0) + 1
    return written


# What a shared material keeps of its source: the stored file and the registry record.
_SHARED_MATERIAL_FIELDS = (
    "origin",
    "file",
    "content_type",
    "size",
    "sha256",
    "original_name",
    "record",
    "uploaded_by_id",
)


# --- outbox -------------------------------------------------------------------------------------


def notify_applicant(case: Case, template: str, text: str) -> list[OutboxMessage]:
    """Write the applicant's notifications in the current transaction; a job sends them after
    the commit (so a rolled-back change never notifies). A bundle's branch cases do not notify:
    the applicant follows the bundle, whose umbrella case tells them of its combined steps."""
    if case.bundle_role == "branch":
        return []
    person = getattr(case.applicant, "person", None)
    rows: list[OutboxMessage] = []
    payload = {"case": case.number, "text": text}
    if person is not None and person.phone_cipher:
        from yiwang.identity.services import PHONE_CONTEXT

        phone = decrypt(person.phone_cipher, context=PHONE_CONTEXT)
        rows.append(_outbox(OutboxChannel.SMS, phone, person.phone_masked, template, payload, case))
    if case.applicant.email:
        email = case.applicant.email
        rows.append(
            _outbox(OutboxChannel.EMAIL, email, mask_text(email[:2]) + "***", template, payload, case)
        )
    if not rows:
        rows.append(
            _outbox(OutboxChannel.CONSOLE, case.applicant.get_username(), "***", template, payload, case)
        )
    OutboxMessage.objects.bulk_create(rows)
    after_commit.send_after_commit([r.pk for r in rows])
    return rows


def notify_staff(case: Case, emails: list[str], template: str, text: str) -> list[OutboxMessage]:
    """E-mails to staff about ``case`` (the supervision app's warnings), written in the current
    transaction and sent after the commit like the applicant's messages."""
    rows = [
        _outbox(
            OutboxChannel.EMAIL,
            email,
            mask_text(email[:2]) + "***",
            template,
            {"case": case.number, "text": text},
            case,
        )
        for email in dict.fromkeys(e for e in emails if e)
    ]
    if rows:
        OutboxMessage.objects.bulk_create(rows)
        after_commit.send_after_commit([r.pk for r in rows])
    return rows


def _outbox(
    channel: str, recipient: str, masked: str, template: str, payload: dict, case: Case
) -> OutboxMessage:
    return OutboxMessage(
        channel=channel,
        recipient_cipher=encrypt(recipient, context=RECIPIENT_CONTEXT),
        recipient_masked=masked,
        template=template,
        payload=payload,
        case=case,
    )


def send_messages(ids: list[int] | None = None, *, max_attempts: int = 5) -> int:
    """Send unsent outbox messages (the given ones, or all due); returns how many were sent."""
    from .notifiers import notifier

    qs = OutboxMessage.objects.filter(sent_at__isnull=True, attempts__lt=max_attempts)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    sent = 0
    # Where the database can skip locked rows (PostgreSQL), each message is claimed under a row
    # lock for its send, so the step's own job and the periodic resend never both send it. (A
    # process killed after the gateway took the message and before the commit sends it again:
    # at least once, never lost.) SQLite has one writer at a time anyway.
    claim = connection.features.has_select_for_update_skip_locked
    for msg in qs.order_by("pk"):
        if not claim:
            sent += _send_one(msg, notifier)
            continue
        with transaction.atomic():
            msg = (
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(pk=msg.pk, sent_at__isnull=True)
                .first()
            )
            if msg is None:  # sent meanwhile, or being sent by another job
                continue
            sent += _send_one(msg, notifier)
    return sent


def _send_one(msg: OutboxMessage, notifier: Callable[[str], Notifier]) -> int:
    recipient = decrypt(msg.recipient_cipher, context=RECIPIENT_CONTEXT)
    try:
        notifier(msg.channel).send(
            recipient=recipient,
            subject=f"办件 {msg.payload.get('case', '')}",
            text=msg.payload.get("text", ""),
        )
    except Exception as exc:  # a gateway failure is retried later; record why
        OutboxMessage.objects.filter(pk=msg.pk).update(attempts=msg.attempts + 1, error=str(exc)[:300])
        return 0
    OutboxMessage.objects.filter(pk=msg.pk).update(
        attempts=msg.attempts + 1, sent_at=timezone.now(), error=""
    )
    return 1


# --- timeline and notices ------------------------------------------------------------------------


def timeline_line(
    case: Case | int,
    kind: str,
    label: str,
    *,
    actor: User | None = None,
    note: str = "",
    visible: bool = True,
) -> CaseEvent:
    """A timeline line of ``case`` (a case or its id), not yet written: ``add_event`` and
    ``add_events`` write it."""
    return CaseEvent(
        **({"case": case} if isinstance(case, Case) else {"case_id": case}),
        kind=kind,
        label=label,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=actor_label(actor),
        note=note,
        visible_to_applicant=visible,
    )


def add_event(
    case: Case, kind: str, label: str, *, actor: User | None = None, note: str = "", visible: bool = True
) -> CaseEvent:
    event = timeline_line(case, kind, label, actor=actor, note=note, visible=visible)
    event.save(force_insert=True)
    return event


def add_events(lines: list[CaseEvent]) -> list[CaseEvent]:
    """Several timeline lines (``timeline_line``), on one case or several: a bundle's step writes
    a line on each branch case. One INSERT."""
    return CaseEvent.objects.bulk_create(lines)


def actor_label(actor: User | None) -> str:
    """How a timeline line names who acted ("系统" for the system); bundles name their lines alike."""
    if actor is None:
        return "系统"
    person = getattr(actor, "person", None)
    if person is not None:
        return person.name
    return account_name(actor.first_name, actor.last_name, actor.get_username())


def settle_with(
    case_ids: list[int],
    *,
    delivered_at: dt.datetime | None = None,
    closed_at: dt.datetime | None = None,
    method: str = "",
) -> None:
    """Cases settled by another case's step (a bundle's branch cases, delivered and closed with
    their umbrella): delivered (state, time, and a ``Delivery`` row each with ``method``; one a
    case already has is kept) or closed."""
    if not case_ids:
        return
    if closed_at is not None:
        Case.objects.filter(pk__in=case_ids).update(state=CaseState.CLOSED, closed_at=closed_at)
        return
    Case.objects.filter(pk__in=case_ids).update(state=CaseState.DELIVERED, delivered_at=delivered_at)
    Delivery.objects.bulk_create(
        [Delivery(case_id=i, method=method, delivered_at=delivered_at) for i in case_ids],
        ignore_conflicts=True,
    )


def issue_notice_after_commit(case: Case, kind: str) -> None:
    after_commit.issue_notice_after_commit(case.pk, kind)


# --- submission ----------------------------------------------------------------------------------


def _applicant_name(application: Application) -> str:
    if application.acting_for_id:
        return application.acting_for.name
    person = getattr(application.applicant, "person", None)
    if person is not None:
        return person.name
    data = personal.open_data(application, reader=personal.SYSTEM)
    return str(data.get("applicant_name") or application.applicant.get_username())


SUBMIT_RELATED = (
    "item_version__item__region",
    "item_version__item__department",
    "applicant__person",
    "acting_for",
)


def submit(application: Application, *, user: User | AnonymousUser | None, bundle_role: str = "") -> Case:
    """Turn a complete draft into a case (idempotent: submitting the same application again,
    e.g. a double click or a retried request, returns the case made the first time)."""
    owner = _check_owner(application, user)
    try:
        with transaction.atomic():
            # One statement: the draft locked, with the version, the item's region and
            # department and the applicant's person row that the case is built from.
            app = locked_row(Application, application.pk, SUBMIT_RELATED)
            if app.submitted_at is not None:  # submitted before: the same case again
                existing = Case.objects.filter(application=app).first()
                if existing is not None:
                    return existing
            return _create_case(app, owner, bundle_role=bundle_role)
    except IntegrityError:
        # Two first submissions raced past the check (SQLite has no row lock): the other won.
        existing = Case.objects.filter(application_id=application.pk).first()
        if existing is None:
            raise
        return existing


def submit_by_key(idempotency_key: str, *, user: User | AnonymousUser | None) -> Case:
    app = Application.objects.filter(idempotency_key=idempotency_key).first()
    if app is None:
        raise DomainError(_("找不到要提交的申请，请重新填写。"), code="no_draft")
    return submit(app, user=user)


def _create_case(app: Application, user: User, *, bundle_role: str = "") -> Case:
    from yiwang.workflow.services import start_process

    version = app.item_version
    item = version.item
    data = personal.open_data(app, reader=personal.SYSTEM)
    errors = [FieldError(k, v) for k, v in formschema.validate(app.form_schema, data).items()]
    for name in missing_materials(app):
        errors.append(FieldError(f"material:{name}", _("请提供申请材料“%(n)s”。") % {"n": name}, "missing"))
    if app.delivery_method == DeliveryMethod.COURIER and not app.delivery_address_cipher:
        errors.append(FieldError("delivery_address", _("选择邮寄送达时请填写收件地址。"), "required"))
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    today = timezone.localdate(now)
    case = _case_row(
        app,
        item,
        version,
        number=numbering.case_number(item.region.code, today),
        applicant_name=_applicant_name(app),
        submitted_at=now,
        bundle_role=bundle_role,
    )
    # As read with the draft (SUBMIT_RELATED): the notifications read the applicant's person.
    case.applicant, case.company = app.applicant, app.acting_for
    case.save(force_insert=True)
    app.submitted_at = now
    CaseMaterial.objects.filter(application=app, replaced=False).update(case=case)
    label = _("窗口代为提交申请") if app.channel == CaseChannel.COUNTER else _("提交申请")
    add_event(case, "submitted", label, actor=user)
    start_process(case, new_case=True)
    notify_applicant(
        case,
        "submitted",
        _("您的申请已提交，办件编号 %(n)s，查询码 %(c)s。") % {"n": case.number, "c": case.check_code},
    )
    issue_notice_after_commit(case, NoticeKind.RECEIPT)
    app.save(update_fields=["submitted_at", "updated_at"])
    case_submitted.send(sender=Case, case=case, actor=user)
    # Last: the audit chain's head row stays locked from here to the commit.
    audit.record(
        "cases.submit",
        case,
        summary=_("提交申请 %(n)s：%(item)s") % {"n": case.number, "item": case.item_name},
        detail={"item": item.code, "channel": app.channel, "version": version.number},
    )
    return case


def _case_row(
    application: Application,
    item: ServiceItem,
    version: ServiceItemVersion,
    *,
    number: str,
    applicant_name: str,
    submitted_at: dt.datetime,
    bundle_role: str,
    accepted_on: dt.date | None = None,
    limit_days: int | None = None,
    deadline: worktime.Deadline | None = None,
) -> Case:
    """An unsaved case numbered ``number`` for ``application`` to ``version`` of ``item``, with
    a new check code: the item, the version and its name, the item's region and department; the
    application's applicant, company, counter clerk (by id: no row read), channel and delivery
    method; ``applicant_name``, ``submitted_at`` and ``bundle_role`` as given. With
    ``accepted_on`` the case is accepted that day, ``limit_days`` and ``deadline`` its limit and
    due date; without, it is submitted and its clock has not started. Writes nothing: the caller
    saves it, alone or in a bulk INSERT."""
    return Case(
        number=number,
        check_code=numbering.check_code(),
        application=application,
        item=item,
        item_version=version,
        item_name=version.name,
        region=item.region,
        department=item.department,
        applicant_id=application.applicant_id,
        company_id=application.acting_for_id,
        applicant_name=applicant_name,
        state=CaseState.SUBMITTED if accepted_on is None else CaseState.ACCEPTED,
        channel=application.channel,
        entered_by_id=application.entered_by_id,
        submitted_at=submitted_at,
        accepted_on=accepted_on,
        limit_days=limit_days,
        due_date=deadline.date if deadline is not None else None,
        due_estimated=deadline.estimated if deadline is not None else False,
        delivery_method=application.delivery_method,
        bundle_role=bundle_role,
    )


def notice_file(notice: Notice) -> bytes:
    with notice.file.open("rb") as fh:
        return fh.read()


__all__ = [
    "CaseState",
    "form_of",
    "save_item_form",
    "start_application",
    "save_draft",
    "upload_material",
    "upload_materials",
    "provide_from_source",
    "replace_certificate_copies",
    "submit",
    "submit_by_key",
    "notify_applicant",
    "send_messages",
]


# --- cases of a bundle (called by the bundles app) ------------------------------------------------


@dataclass(frozen=True)
class BranchOpening:
    """One branch case to open beside an umbrella case (``open_branch_cases``): the item (its
    current version, department and region read), its form (schema, layout), the data mapped
    onto that form, its limit in working days and the application's idempotency key."""

    item: ServiceItem
    form: tuple[dict[str, Any], dict[str, Any]]
    data: dict[str, Any]
    limit_days: int
    idempotency_key: str


def open_branch_cases(umbrella: Case, openings: list[BranchOpening]) -> list[Case]:
    """Accepted cases beside ``umbrella``, one per opening, in its order: the umbrella's
    applicant, company, channel, clerk and delivery method; each with its own application (the
    data sealed like any form data), a case number in its item's region and a due date counted
    from today. Refuses an item that is no longer published. The rows of all of them are written together (one INSERT per table); the caller
    starts their processes and shares the materials (``share_materials``)."""
    if not openings:
        return []
    today = timezone.localdate()
    now = timezone.now()
    apps = []
    for opening in openings:
        schema, layout = opening.form
        app = Application(
            applicant_id=umbrella.applicant_id,
            acting_for_id=umbrella.company_id,
            item_version=_current_version(opening.item),
            form_schema=formschema.snapshot(schema),
            form_layout=layout,
            idempotency_key=opening.idempotency_key,
            channel=umbrella.channel,
            entered_by_id=umbrella.entered_by_id,
            delivery_method=umbrella.delivery_method,
            submitted_at=now,
        )
        personal.seal_data(app, opening.data)
        apps.append(app)
    Application.objects.bulk_create(apps)
    numbers = case_numbers([o.item.region.code for o in openings], today)
    branches = []
    for opening, app, number in zip(openings, apps, numbers, strict=True):
        item = opening.item
        version = _current_version(item)
        # The application carries the umbrella's applicant, company, channel, clerk and delivery.
        branches.append(
            _case_row(
                app,
                item,
                version,
                number=number,
                applicant_name=umbrella.applicant_name,
                submitted_at=umbrella.submitted_at,
                bundle_role="branch",
                accepted_on=today,
                limit_days=opening.limit_days,
                deadline=worktime.due_date(today, opening.limit_days, []),
            )
        )
    created = Case.objects.bulk_create(branches)
    for case in created:
        case_submitted.send(sender=Case, case=case, actor=None)
    return created


def check_owner(application: Application, user: User) -> None:
    """Refuse anyone but the draft's applicant (or the clerk who entered it at the counter), as
    every applicant service does; for another app's service on a draft (a bundle's submit)."""
    _check_owner(application, user)


def _current_version(item: ServiceItem) -> ServiceItemVersion:
    if item.current_version is None:
        raise DomainError(
            _("事项“%(n)s”已停用，不能分送，请联系牵头部门。") % {"n": item.name or item.code},
            code="member_unpublished",
        )
    return item.current_version


def _recompute_due(case: Case) -> None:
    from .actions import recompute_due  # deferred: cases.actions imports this module

    recompute_due(case)


def merge_into_correction(case_id: int, entries: list[dict[str, Any]]) -> Case:
    """Add ``entries`` (items of a one-time correction request: ``material`` or ``field``,
    ``reason``, ``branches``) to the case's open request, or open one (and pause the clock) when
    the case is not waiting for a correction. An entry naming the same material or field as one
    already asked joins its reason and branches to it. The named materials are marked faulty;
    the case (locked) goes to correction_requested and is returned."""
    case = Case.objects.select_for_update(of=("self",)).select_related("region").get(pk=case_id)
    request = case.corrections.filter(resolved_at__isnull=True).order_by("-pk").first()
    if request is None or case.state != CaseState.CORRECTION_REQUESTED:
        request = CorrectionRequest.objects.create(case=case, items=[], requested_by=None)
        ClockPause.objects.create(case=case, kind=PauseKind.CORRECTION, start=timezone.localdate())
    items = list(request.items)
    for entry in entries:
        same = next(
            (
                i
                for i in items
                if (entry.get("material") and i.get("material") == entry["material"])
                or (entry.get("field") and i.get("field") == entry["field"])
            ),
            None,
        )
        if same is None:
            items.append(entry)
        else:
            same["reason"] = f"{same['reason']}；{entry['reason']}"
            same["branches"] = sorted(set(same.get("branches", [])) | set(entry.get("branches", [])))
    request.items = items
    request.save(update_fields=["items"])
    for entry in entries:
        if entry.get("material"):
            CaseMaterial.objects.filter(case=case, requirement=entry["material"], replaced=False).update(
                status=MaterialStatus.FAULTY, note=entry["reason"][:300]
            )
    case.state = CaseState.CORRECTION_REQUESTED
    _recompute_due(case)
    case.save()
    return case


@dataclass
class Correction:
    """What ``answer_correction`` resolved: the case, its request, the corrected data and the
    new rows of each material the request named."""

    case: Case
    request: CorrectionRequest
    data: dict[str, Any]
    materials: dict[str, list[CaseMaterial]]


def _resume(case: Case, request: CorrectionRequest | None, now: dt.datetime) -> None:
    if request is not None:
        request.resolved_at = now
        request.save(update_fields=["resolved_at"])
    ClockPause.objects.filter(case=case, kind=PauseKind.CORRECTION, end__isnull=True).update(
        end=timezone.localdate()
    )
    case.state = CaseState.UNDER_REVIEW
    _recompute_due(case)
    case.save()


def answer_correction(case_id: int, *, user: User, data: dict[str, Any] | None) -> Correction:
    """The applicant answers the open correction request of a case under review (a bundle's
    combined request): ``data`` corrects the form, and every material the request named must
    have been uploaded again since; all problems at once. The old copies of those materials are
    superseded, the request resolved, the clock resumes and the case (locked) is under review
    again."""
    case = (
        Case.objects.select_for_update(of=("self",)).select_related("application", "region").get(pk=case_id)
    )
    if user is None or user.pk != case.applicant_id:
        raise NotPermitted(_("只有申请人本人可以办理此环节。"))
    if case.state != CaseState.CORRECTION_REQUESTED:
        raise DomainError(_("办件当前不需要补正。"), code="state")
    request = case.corrections.filter(resolved_at__isnull=True).order_by("-pk").first()
    if request is None:
        raise DomainError(_("没有待补正的内容。"))
    app = case.application
    new = personal.open_data(app, reader=personal.SYSTEM)
    if data:
        new.update(formschema.coerce(app.form_schema, data))
    errors = [FieldError(k, v) for k, v in formschema.validate(app.form_schema, new).items()]
    fresh: dict[str, list[CaseMaterial]] = {}
    for item in request.items:
        name = item.get("material")
        if not name:
            continue
        rows = list(
            CaseMaterial.objects.filter(
                case=case, requirement=name, replaced=False, created_at__gt=request.requested_at
            )
        )
        if not rows:
            errors.append(FieldError(f"material:{name}", _("请重新提供“%(n)s”。") % {"n": name}, "missing"))
        fresh[name] = rows
    if errors:
        raise ValidationFailed(errors)
    personal.seal_data(app, new)
    app.save(update_fields=["data", "personal_cipher", "updated_at"])
    for name in fresh:
        CaseMaterial.objects.filter(case=case, requirement=name, created_at__lte=request.requested_at).update(
            replaced=True
        )
    _resume(case, request, timezone.now())
    return Correction(case, request, new, fresh)


def carry_correction(case_id: int, *, data: dict[str, Any], materials: dict[str, list[CaseMaterial]]) -> Case:
    """Carry another case's correction onto this one (a bundle's branch that asked): ``data``
    updates its form data, each ``materials`` name gets copies of those rows (the same stored
    files) in place of its current ones; its open request is resolved, the clock resumes and the
    case (locked) is under review again."""
    case = (
        Case.objects.select_for_update(of=("self",)).select_related("application", "region").get(pk=case_id)
    )
    app = case.application
    if data:
        personal.seal_data(app, {**personal.open_data(app, reader=personal.SYSTEM), **data})
        app.save(update_fields=["data", "personal_cipher", "updated_at"])
    for name, rows in materials.items():
        CaseMaterial.objects.filter(case=case, requirement=name, replaced=False).update(replaced=True)
        CaseMaterial.objects.bulk_create(
            CaseMaterial(
                application=app,
                case=case,
                requirement=name,
                origin=m.origin,
                file=m.file.name,
                content_type=m.content_type,
                size=m.size,
                sha256=m.sha256,
                original_name=m.original_name,
                record=m.record,
                uploaded_by_id=m.uploaded_by_id,
            )
            for m in rows
        )
    request = case.corrections.filter(resolved_at__isnull=True).order_by("-pk").first()
    _resume(case, request, timezone.now())
    return case


__all__ += [
    "check_owner",
    "BranchOpening",
    "open_branch_cases",
    "merge_into_correction",
    "Correction",
    "answer_correction",
    "carry_correction",
]
