"""Notices (文书) as PDF files: receipt, acceptance, refusal, correction and decision.

Chinese must show on a machine with no Chinese fonts, so the PDF embeds a subset of Noto Sans SC
(SIL OFL; ``core.fonts``: a shipped GB 2312 cut, or the full font from the
``pylopdf-fonts-zh-cn`` package for rarer characters; only the glyphs used are embedded).
Each notice carries the case number, the check code and a QR code holding the absolute address
of its verification page, ``{YIWANG_PUBLIC_URL}/verify/<notice number>/?code=<check code>``
(``verify_url``), which says whether a notice of that number was issued and shows its record. The page, font and QR code come from
``core.pdf_page``. Building one parses and subsets the font, work a user step must not wait for,
so notices are issued after the commit by a background job (``tasks.issue_notice``), which runs
in-process in the embedded default.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from fpdf import FPDF

from yiwang.catalog.decision_words import DecisionWords, words_of_elements
from yiwang.core import pdf_page
from yiwang.core.files import is_unguessable, unguessable_name
from yiwang.core.hant import is_hant, to_hant
from yiwang.core.pdf_page import FONT, qr_png

from .models import Case, CaseState, Notice, NoticeKind, Outcome

TITLES = {
    NoticeKind.RECEIPT: "收件回执",
    NoticeKind.ACCEPTANCE: "受理通知书",
    NoticeKind.REFUSAL: "不予受理通知书",
    NoticeKind.CORRECTION: "补正材料通知书（一次性告知）",
    NoticeKind.DECISION: "决定书",  # the real title: title_of() by item type and outcome
}


def decision_words(case: Case) -> DecisionWords:
    """The decision's wording by the item's type (事项类型, in the published elements)."""
    return words_of_elements(case.item_version.elements)


def is_approved(case: Case) -> bool:
    return case.state == CaseState.APPROVED or case.outcome == "approved"


def title_of(case: Case, kind: str) -> str:
    """The notice's title; a decision's depends on the item type and the outcome."""
    if kind == NoticeKind.DECISION:
        return decision_words(case).title(is_approved(case))
    return TITLES[kind]


def limit_text(case: Case) -> str:
    """The promise an acceptance notice states: 即办 for an instant item (no limit, or 0)."""
    if not case.limit_days:
        return "即办"
    return f"承诺办结时限：{case.limit_days} 个工作日"


KIND_CODES = {"receipt": "HZ", "acceptance": "SL", "refusal": "BSL", "correction": "BZ", "decision": "JD"}


def public_base_url() -> str:
    """The platform's absolute public address (settings.YIWANG_PUBLIC_URL), without a final /."""
    return pdf_page.public_url("").rstrip("/")


# The portal's public progress lookup (portal:case_lookup), printed on the receipt.
LOOKUP_PATH = "/cases/lookup/"


def verify_url(number: str, case: Case) -> str:
    """What a notice's QR code holds: its verification page, absolute. The notice's own SHA-256
    cannot be in it (the code is part of the file hashed); the case's check code, printed on the
    notice too, keeps notice numbers, which follow case numbers, from being enumerated."""
    return pdf_page.public_url(f"/verify/{quote(number)}/?{urlencode({'code': case.check_code})}")


def _body(case: Case, kind: str) -> list[str]:
    dept = case.department.name
    lines: list[str] = []
    if kind == NoticeKind.RECEIPT:
        lines = [
            f"{case.applicant_name}：",
            f"您于 {timezone.localtime(case.submitted_at):%Y年%m月%d日 %H:%M} 提交的“{case.item_name}”申请已收到，"
            f"{dept}将依法审查是否受理。",
            "查询码是您查询本办件的凭证：与办件编号一起，在"
            f"{pdf_page.public_url(LOOKUP_PATH)} 无需登录即可查询办理进度。请妥善保管，不要告诉他人。",
        ]
    elif kind == NoticeKind.ACCEPTANCE:
        cite = decision_words(case).citation(decision_words(case).acceptance_article)
        lines = [
            f"{case.applicant_name}：",
            f"你（单位）提出的“{case.item_name}”申请，经审查，申请材料齐全、符合法定形式，{cite}决定予以受理。",
            f"受理日期：{case.accepted_on:%Y年%m月%d日}；{limit_text(case)}；"
            f"办理期限：{case.due_date:%Y年%m月%d日}"
            + ("（按周末推算）" if case.due_estimated else "")
            + "。",
            "补正、中止、现场核查及专家评审所需时间不计算在期限内。",
        ]
    elif kind == NoticeKind.REFUSAL:
        lines = [
            f"{case.applicant_name}：",
            f"你（单位）提出的“{case.item_name}”申请，经审查，决定不予受理。",
            f"理由：{case.reasons}",
            case.appeal_rights,
        ]
    elif kind == NoticeKind.CORRECTION:
        request = case.corrections.order_by("-pk").first()
        cite = decision_words(case).citation(decision_words(case).acceptance_article)
        lines = [
            f"{case.applicant_name}：",
            f"你（单位）提出的“{case.item_name}”申请，材料不齐全或者不符合法定形式。{cite}"
            "现一次性告知需要补正的全部内容：",
        ]
        for i, item in enumerate(request.items if request else [], start=1):
            what = item.get("material") or item.get("field_label") or item.get("field") or ""
            lines.append(f"{i}. {what}：{item.get('reason', '')}")
        lines.append("补正期间不计算在办理时限内；请在收到本通知后登录一网通办提交补正材料。")
    elif kind == NoticeKind.DECISION:
        words = decision_words(case)
        cite = words.citation(words.decision_article)
        lines = [f"{case.applicant_name}："]
        if is_approved(case):
            met = "符合法定条件、标准" if words.law else "符合规定条件"
            lines.append(f"你（单位）提出的“{case.item_name}”申请，经审查，{met}，{cite}{words.approves}。")
            if case.reasons:
                lines.append(f"说明：{case.reasons}")
        else:
            lines.append(f"你（单位）提出的“{case.item_name}”申请，经审查，{cite}{words.denies}。")
            lines.append(f"理由：{case.reasons}")
            lines.append(case.appeal_rights)
    return [line for line in lines if line]


def render_pdf(case: Case, kind: str, number: str) -> bytes:
    """The notice as PDF. A notice is a Chinese document in every language; issued while
    繁體中文 is active (core/hant.py) it is set in Traditional characters, its data included."""
    text = to_hant if is_hant() else str
    fields = tuple(
        (text(label), text(value))
        for label, value in (
            ("办件编号", case.number),
            ("查询码", case.check_code),
            ("事项名称", case.item_name),
            ("申请人", case.applicant_name),
        )
    )
    body = [text(line) for line in _body(case, kind)]
    title = text(title_of(case, kind))
    department = text(case.department.name)
    number_line = text(f"文书编号：{number}")
    scan_hint = text("扫码核验本文书真伪；凭办件编号、查询码可查询办理进度")
    # The receipt also carries the rating QR code (好差评): the applicant scans it once the case
    # is finished and signs in to rate (supervision's signed link; the form admits the applicant).
    rate_hint = text("办结后扫码评价本次服务（好差评）") if kind == NoticeKind.RECEIPT else ""
    lines = [department, title, number_line, *(f"{a}：{b}" for a, b in fields), *body, scan_hint, rate_hint]

    def draw(pdf: FPDF) -> None:
        pdf.set_margins(20, 20, 20)
        pdf.set_font(FONT, size=20)
        pdf.cell(w=0, h=14, text=department, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.cell(w=0, h=14, text=title, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, size=10)
        pdf.cell(w=0, h=8, text=number_line, align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.set_font(FONT, size=12)
        for label, value in fields:
            pdf.cell(w=0, h=8, text=f"{label}：{value}", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        for line in body:
            pdf_page.paragraph(pdf, line, 8)
            pdf.ln(1)
        pdf.ln(6)
        y = pdf.get_y()
        pdf.image(qr_png(verify_url(number, case)), x=20, y=y, w=32, h=32)
        pdf.set_xy(56, y + 6)
        pdf.set_font(FONT, size=10)
        pdf_page.paragraph(pdf, scan_hint, 6, x=56)
        pdf.set_xy(120, y + 20)
        pdf.set_font(FONT, size=12)
        pdf.cell(w=0, h=8, text=department, align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_x(120)
        pdf.cell(w=0, h=8, text=f"{timezone.localdate():%Y年%m月%d日}", align="R")
        if rate_hint:
            from yiwang.supervision.rating_selectors import rating_url

            pdf.image(qr_png(pdf_page.public_url(rating_url(case, "finished"))), x=20, y=y + 36, w=32, h=32)
            pdf.set_xy(56, y + 42)
            pdf.set_font(FONT, size=10)
            pdf_page.paragraph(pdf, rate_hint, 6, x=56)

    return pdf_page.render(f"{title} {case.number}", "".join(lines), draw)


def issue(case: Case, kind: str) -> Notice:
    """Render and store one notice (idempotent per case and kind for receipt/acceptance/refusal;
    every correction request and decision gets its own)."""
    with transaction.atomic():
        case = Case.objects.select_related("department", "item_version").get(pk=case.pk)
        seq = Notice.objects.filter(case=case, kind=kind).count() + 1
        if seq > 1 and kind in (NoticeKind.RECEIPT, NoticeKind.ACCEPTANCE, NoticeKind.REFUSAL):
            return Notice.objects.filter(case=case, kind=kind).first()
        number = f"{case.number}-{KIND_CODES[kind]}{seq:02d}"
        data = render_pdf(case, kind, number)
        notice = Notice(case=case, kind=kind, number=number, sha256=hashlib.sha256(data).hexdigest())
        # Not the notice number: the stored name must not be derivable from the case (core.files).
        notice.file.save(unguessable_name(".pdf"), ContentFile(data), save=False)
        name = notice.file.name
        try:
            notice.save()
        except Exception:
            notice.file.storage.delete(name)
            raise
    return notice


def secure_stored_names() -> int:
    """Move notices stored under their notice number (``<case number>-HZ01.pdf``, derivable from
    the case) to an unguessable name (``core.files``); the former file is deleted after the row
    points at the new one. Idempotent; returns how many moved (``secure_document_files``)."""
    moved = 0
    for pk, name in Notice.objects.exclude(file="").order_by("pk").values_list("pk", "file").iterator():
        if is_unguessable(name):
            continue
        with default_storage.open(name, "rb") as fh:
            data = fh.read()
        new = default_storage.save(
            f"cases/notices/{timezone.localdate():%Y/%m}/{unguessable_name('.pdf')}", ContentFile(data)
        )
        try:
            Notice.objects.filter(pk=pk).update(file=new)
        except BaseException:
            default_storage.delete(new)
            raise
        default_storage.delete(name)
        moved += 1
    return moved


# How long after a step its notice is left to the step's own after-commit job before the sweep
# below makes it: long enough for a busy queue, short enough that nobody waits for a receipt.
SWEEP_GRACE_SECONDS = 120  # YIWANG_NOTICE_SWEEP_GRACE overrides it (the crash test: 15)
SWEEP_DAYS = 3


def issue_missing(*, now=None, limit: int = 200) -> int:
    """Make the notices that recent cases should have and do not (periodic job
    ``cases.issue_missing_notices``): a web process killed between a step's commit and the
    publish of its after-commit job loses that job, and the outbox resends messages but a notice
    has no row until it is made. Which notice a case should have follows from its columns:
    a receipt always; acceptance once accepted (not a bundle's branch, accepted with its
    umbrella); refusal when refused; a decision once decided (not an approval of an item whose
    result kind is "none"). Returns how many were made. A
    notice made at the same moment by the step's own job loses on the unique notice number."""
    from django.db import IntegrityError
    from django.db.models import Exists, OuterRef, Q

    now = now or timezone.now()
    recent = Case.objects.filter(
        submitted_at__gte=now - dt.timedelta(days=SWEEP_DAYS),
        updated_at__lte=now
        - dt.timedelta(seconds=getattr(settings, "YIWANG_NOTICE_SWEEP_GRACE", SWEEP_GRACE_SECONDS)),
    )

    def lacking(kind: str):
        return ~Exists(Notice.objects.filter(case=OuterRef("pk"), kind=kind))

    wanted = [
        (NoticeKind.RECEIPT, Q()),
        (NoticeKind.ACCEPTANCE, Q(accepted_on__isnull=False) & ~Q(bundle_role="branch")),
        (NoticeKind.REFUSAL, Q(outcome=Outcome.REFUSED)),
        # An approval of an item that produces nothing (审批结果类型 "无") has no decision letter.
        (
            NoticeKind.DECISION,
            Q(outcome=Outcome.DENIED)
            | (
                Q(outcome=Outcome.APPROVED)
                & (
                    Q(item_version__elements__result_kind__isnull=True)
                    | ~Q(item_version__elements__result_kind="none")
                )
            ),
        ),
    ]
    made = 0
    for kind, condition in wanted:
        for case in recent.filter(condition).filter(lacking(kind)).order_by("pk")[:limit]:
            try:
                issue(case, kind)
            except IntegrityError:  # the step's own job made it meanwhile
                continue
            made += 1
    return made
