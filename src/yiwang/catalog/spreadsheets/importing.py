"""Importing an implementation list (实施清单) from xlsx.

The sheet is read twice: once to find the data rows (``reading.scan_table``), then to import
them. The file is imported in one transaction, so it is written completely or not at all; inside
it each data row is checked, then written in its own savepoint, so a bad row writes nothing while
every good row is kept. Whatever is wrong is reported per row and column, in Chinese, and the
whole run is kept as an ``ImportRun`` with its report and notices.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from yiwang.catalog import services
from yiwang.catalog.models import ImportRun, ItemMaterial, ItemStatus, ProcessStep, ServiceItem, StandardItem
from yiwang.core import audit
from yiwang.core.errors import DomainError
from yiwang.identity.selectors import can_manage_department
from yiwang.regions.models import Department, Region

from . import columns as fmt
from .columns import COLUMN_BY_KEY, COLUMNS, CellError, Column
from .progress import record_progress
from .reading import (
    FileRejected,
    HeaderMap,
    TableShape,
    Workbook,
    blank_row,
    max_rows,
    open_workbook,
    scan_table,
)

log = logging.getLogger(__name__)

CHUNK = 250  # rows looked up together and between two progress reports; each row has a savepoint
MAX_STORED_ERRORS = 50_000
MATERIALS, STEPS = "materials", "steps"


@dataclass
class RowError:
    row: int | None  # the row number Excel shows; None for the file as a whole
    column: str  # column letter, "" when the error is about the whole row
    header: str  # the column's Chinese header
    message: str
    code: str = ""  # the implementation code, when the row names one
    kind: str = ""  # for notices: "column" (unknown column) or "note" (a line under the table)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if not self.kind:
            del d["kind"]
        return d


@dataclass
class ImportResult:
    run: ImportRun
    file_name: str
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    published: int = 0
    failed: int = 0
    errors: list[RowError] = field(default_factory=list)
    rejected: str = ""  # why the whole file was refused
    notices: list[RowError] = field(default_factory=list)  # told to the clerk; not failures
    seconds: float = 0.0
    expected: int = 0  # data rows found by the first reading: the progress bar's total

    @property
    def ignored_headers(self) -> list[str]:
        return [n.header for n in self.notices if n.kind == "column"]

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        if self.rejected:
            return _("文件未导入：%(msg)s") % {"msg": self.rejected}
        text = _(
            "共 %(total)s 行：成功 %(ok)s 行（新增 %(created)s，更新 %(updated)s，无变化 %(unchanged)s），失败 %(failed)s 行"
        ) % {
            "total": self.total,
            "ok": self.imported,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
        }
        if self.published:
            text += ngettext("；发布 %(n)s 项", "；发布 %(n)s 项", self.published) % {"n": self.published}
        return text + _("；用时 %(s).1f 秒。") % {"s": self.seconds}


@dataclass
class ParsedRow:
    number: int
    code: str = ""
    standard_code: str = ""
    region_code: str = ""
    department_code: str = ""
    values: dict[str, Any] = field(default_factory=dict)  # only the editable columns the sheet has
    errors: list[RowError] = field(default_factory=list)


def import_items(
    source: str | Path | IO[bytes],
    *,
    user=None,
    publish: bool = False,
    file_name: str = "",
    progress: Callable[[int, int | None], None] | None = None,
    run: ImportRun | None = None,
) -> ImportResult:
    """Import an implementation list.

    ``user`` None means the system (command line without --user): no scope check. Otherwise
    each row must belong to a department the user may manage (``can_manage_department``).
    ``publish`` publishes every imported row through ``services.publish``; a row that breaks a
    publication rule is then reported and not written at all. ``progress(done, total)`` is
    called with 0 before the first row and after each chunk; total is the number of data rows
    (lines under the table and blank rows left out). ``run`` is an ImportRun created beforehand
    (a queued upload); otherwise one is created here. All rows are written in one transaction.
    """
    if not file_name:
        file_name = (
            Path(source).name
            if isinstance(source, str | Path)
            else getattr(source, "name", "") or "upload.xlsx"
        )
    started = time.monotonic()
    if run is None:
        run = ImportRun.objects.create(
            file_name=str(file_name)[:255], user=user if getattr(user, "is_authenticated", False) else None
        )
    result = ImportResult(run=run, file_name=str(file_name))
    try:
        book = open_workbook(source)
    except FileRejected as e:
        result.rejected = str(e)
        result.errors.append(RowError(None, "", "", str(e)))
        return _finish(result, started, publish)
    for letter, text in book.header.ignored:
        result.notices.append(
            RowError(
                book.header.row,
                letter,
                text,
                _("“%(h)s”不是实施清单的列，该列未导入。") % {"h": text},
                kind="column",
            )
        )
    importer = _Importer(book.header, user=user, publish=publish, result=result)
    limit = max_rows()
    try:
        shape = scan_table(book.reread(), book.header, limit)
    except FileRejected as e:
        book.close()
        result.rejected = str(e)
        result.errors.append(RowError(None, "", "", str(e)))
        return _finish(result, started, publish)
    # The total is committed before the rows' transaction, so the run's page can show it.
    result.expected = shape.data_rows
    ImportRun.objects.filter(pk=run.pk).update(total_rows=shape.data_rows)
    record_progress(run.pk, 0)
    if progress:
        progress(0, shape.data_rows)
    try:
        # One transaction for the whole file: it is imported completely or not at all. Inside it
        # each row has its own savepoint, so a bad row writes nothing and the good rows are kept.
        with transaction.atomic():
            _import_rows(book, shape, importer, limit, progress)
    except FileRejected as e:
        # Read once already, so this is a file changed or damaged under us: nothing was written.
        result.total = result.created = result.updated = result.unchanged = 0
        result.published = result.failed = 0
        result.notices = []
        result.rejected = str(e)
        result.errors = [RowError(None, "", "", str(e))]
        return _finish(result, started, publish)
    finally:
        book.close()
    if shape.stopped_at is not None:
        msg = _("第 %(row)s 行之后仍是空行或格式行，已停止读取。") % {"row": shape.stopped_at}
        result.errors.append(RowError(shape.stopped_at, "", "", msg))
    for number, text in shape.notes:
        result.notices.append(
            RowError(number, "", "", _("表格下方的说明行已忽略：“%(text)s”") % {"text": text}, kind="note")
        )
    if shape.more_notes:
        message = ngettext(
            "表格下方另有 %(n)s 行说明已忽略。", "表格下方另有 %(n)s 行说明已忽略。", shape.more_notes
        ) % {"n": shape.more_notes}
        result.notices.append(RowError(None, "", "", message, kind="note"))
    return _finish(result, started, publish)


def _import_rows(
    book: Workbook,
    shape: TableShape,
    importer: _Importer,
    limit: int,
    progress: Callable[[int, int | None], None] | None,
) -> None:
    result = importer.result
    chunk: list[tuple[int, tuple[Any, ...]]] = []
    done = 0

    def flush() -> None:
        nonlocal done, chunk
        importer.process(chunk)
        done += len(chunk)
        chunk = []
        record_progress(result.run.pk, done)
        if progress:
            progress(done, shape.data_rows)

    for number, values in book.rows:
        if number > shape.end:
            break
        if blank_row(values):
            continue
        if number - book.header.row > limit:
            msg = _("表格超过了 %(n)s 行的上限，第 %(row)s 行及以后未导入；请拆分文件后分批导入。") % {
                "n": limit,
                "row": number,
            }
            result.errors.append(RowError(number, "", "", msg))
            break
        chunk.append((number, values))
        if len(chunk) >= CHUNK:
            flush()
    if chunk:
        flush()


def _finish(result: ImportResult, started: float, publish: bool) -> ImportResult:
    result.seconds = time.monotonic() - started
    run = result.run
    run.finished_at = timezone.now()
    run.total_rows = result.total
    run.imported_rows = result.imported
    run.failed_rows = result.failed
    run.errors = [e.as_dict() for e in result.errors[:MAX_STORED_ERRORS]]
    run.notices = [n.as_dict() for n in result.notices[:MAX_STORED_ERRORS]]
    with transaction.atomic():
        run.save(
            update_fields=["finished_at", "total_rows", "imported_rows", "failed_rows", "errors", "notices"]
        )
        audit.record(
            "catalog.import.run",
            run,
            summary=(f"{result.file_name}: " + result.summary())[:500],
            detail={
                "file_name": result.file_name,
                "total": result.total,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "published": result.published,
                "failed": result.failed,
                "errors": len(result.errors),
                "notices": len(result.notices),
                "rejected": result.rejected,
                "publish": publish,
                "seconds": round(result.seconds, 2),
            },
        )
    return result


class _RowFailed(Exception):
    """Raised inside a row's savepoint to roll the row back after its errors were collected."""


class _Importer:
    def __init__(self, header: HeaderMap, *, user, publish: bool, result: ImportResult) -> None:
        self.header = header
        self.user = user
        self.publish = publish
        self.result = result
        self.present = [c for c in COLUMNS if c.key in header.positions]
        self.standards: dict[str, StandardItem | None] = {}
        self.regions: dict[str, Region | None] = {}
        self.departments: dict[tuple[int, str], Department | None] = {}
        self.allowed: dict[int, bool] = {}
        self.seen_codes: dict[str, int] = {}
        self.actor_label = getattr(user, "username", "") or None

    # --- errors ---------------------------------------------------------------------------------

    def _err(self, row: ParsedRow, key: str, message: str) -> None:
        col = COLUMN_BY_KEY.get(key)
        if col is not None and key in self.header.positions:
            row.errors.append(RowError(row.number, self.header.letter(key), col.header, message, row.code))
        else:
            header = col.header if col is not None else ""
            row.errors.append(RowError(row.number, "", header, message, row.code))

    # --- parsing --------------------------------------------------------------------------------

    def _cell(self, values: tuple[Any, ...], key: str) -> Any:
        idx = self.header.positions.get(key)
        if idx is None or idx >= len(values):
            return None
        return values[idx]

    def parse(self, number: int, values: tuple[Any, ...]) -> ParsedRow:
        row = ParsedRow(number=number)
        cell = lambda key: self._cell(values, key)  # noqa: E731

        try:
            raw = cell("code")
            row.code = fmt.parse_code(raw, 23, label=_("实施编码")) if fmt.cell_text(raw) else ""
        except CellError as e:
            self._err(row, "code", str(e))
        keys = (
            ("standard", 11, _("基本编码")),
            ("region", 0, _("区划代码")),
            ("department", 3, _("部门代码")),
        )
        for key, digits, label in keys:
            raw = cell(key)
            if not fmt.cell_text(raw):
                self._err(row, key, _("%(label)s必须填写。") % {"label": label})
                continue
            try:
                if key == "region":
                    text = fmt.cell_text(raw).replace(" ", "")
                    if not text.isdigit() or len(text) not in (6, 9, 12):
                        raise CellError(_("区划代码“%(v)s”格式不对，应为6位或9位数字。") % {"v": text[:40]})
                    value = text
                elif key == "department":
                    text = fmt.cell_text(raw).replace(" ", "")
                    value = fmt.parse_code(text.zfill(3) if text.isdigit() else text, 3, label=label)
                else:
                    value = fmt.parse_code(raw, digits, label=label)
            except CellError as e:
                self._err(row, key, str(e))
                continue
            setattr(row, f"{key}_code", value)

        for col in self.present:
            if col.kind in (fmt.KEY, fmt.INFO):
                continue
            try:
                row.values[col.key] = self._parse_value(col, cell(col.key))
            except CellError as e:
                self._err(row, col.key, _("%(header)s：%(msg)s") % {"header": col.header, "msg": e})
            except Exception:  # an odd cell type must cost one row, not the import
                log.exception("import row %s column %s unreadable", number, col.key)
                self._err(row, col.key, _("%(header)s：无法读取该单元格的内容") % {"header": col.header})

        if row.code:
            first = self.seen_codes.get(row.code)
            if first is not None:
                self._err(
                    row,
                    "code",
                    _("实施编码 %(code)s 与第 %(row)s 行重复：同一事项在一个文件中只能出现一次。")
                    % {"code": row.code, "row": first},
                )
            else:
                self.seen_codes[row.code] = number
        return row

    def _parse_value(self, col: Column, raw: Any) -> Any:
        if col.kind == fmt.TEXT:
            text = fmt.cell_text(raw)
            if col.max_length and len(text) > col.max_length:
                raise CellError(
                    _("内容有 %(n)s 字，超过了 %(max)s 字的上限") % {"n": len(text), "max": col.max_length}
                )
            return text
        if col.kind == fmt.INT:
            value = fmt.parse_int(raw, max_value=col.max_value or 32767)
            if col.key == "onsite_visits" and value is None:
                return 0
            return value
        if col.kind == fmt.BOOL:
            return fmt.parse_bool(raw)
        if col.kind == fmt.ENUM:
            if not fmt.cell_text(raw):
                return fmt.ENUM_BLANK.get(col.key, "")
            return fmt.parse_choice(col.key, raw)
        if col.kind == fmt.CHANNELS:
            return fmt.parse_channels(raw)
        if col.kind == fmt.MATERIALS:
            return fmt.parse_materials(raw)
        if col.kind == fmt.STEPS:
            return fmt.parse_steps(raw)
        raise AssertionError(col.kind)

    # --- lookups, one query per chunk -----------------------------------------------------------

    def _load(self, rows: list[ParsedRow]) -> dict[str, ServiceItem]:
        std_codes = {r.standard_code for r in rows if r.standard_code} - self.standards.keys()
        if std_codes:
            found = {
                s.basic_code: s
                for s in StandardItem.objects.filter(basic_code__in=std_codes).prefetch_related("materials")
            }
            for c in std_codes:
                self.standards[c] = found.get(c)
        region_codes = set()
        for r in rows:
            if r.region_code and r.region_code not in self.regions:
                region_codes.add(r.region_code)
                if len(r.region_code) == 9 and r.region_code.endswith("000"):
                    region_codes.add(r.region_code[:6])
        if region_codes:
            found_r = {g.code: g for g in Region.objects.filter(code__in=region_codes)}
            for c in region_codes:
                region = found_r.get(c)
                if region is None and len(c) == 9 and c.endswith("000"):
                    region = found_r.get(c[:6])
                self.regions[c] = region
        wanted: dict[int, set[str]] = {}
        for r in rows:
            region = self.regions.get(r.region_code)
            if (
                region is not None
                and r.department_code
                and (region.pk, r.department_code) not in self.departments
            ):
                wanted.setdefault(region.pk, set()).add(r.department_code)
        if wanted:
            region_ids = list(wanted)
            codes = set().union(*wanted.values())
            found_d = {
                (d.region_id, d.code): d
                for d in Department.objects.filter(region_id__in=region_ids, code__in=codes).select_related(
                    "region"
                )
            }
            for rid, dcodes in wanted.items():
                for c in dcodes:
                    self.departments[(rid, c)] = found_d.get((rid, c))
        item_codes = {r.code for r in rows if r.code}
        for r in rows:
            std, dept = self._std_dept(r)
            if std is not None and dept is not None:
                item_codes.add(services.implementation_code(std, dept))
        items = (
            ServiceItem.objects.filter(code__in=item_codes)
            .select_related("standard", "region", "department", "department__region")
            .prefetch_related("materials", "steps", "standard__materials")
        )
        return {i.code: i for i in items}

    def _std_dept(self, r: ParsedRow) -> tuple[StandardItem | None, Department | None]:
        std = self.standards.get(r.standard_code)
        region = self.regions.get(r.region_code)
        dept = self.departments.get((region.pk, r.department_code)) if region is not None else None
        return std, dept

    def _can_manage(self, dept: Department) -> bool:
        if self.user is None:
            return True
        if dept.pk not in self.allowed:
            self.allowed[dept.pk] = can_manage_department(self.user, dept)
        return self.allowed[dept.pk]

    # --- one chunk ------------------------------------------------------------------------------

    def process(self, chunk: list[tuple[int, tuple[Any, ...]]]) -> None:
        rows = [self.parse(number, values) for number, values in chunk]
        items = self._load([r for r in rows if not r.errors])
        with transaction.atomic():
            for row in rows:
                self.result.total += 1
                if not row.errors:
                    self._resolve_and_write(row, items)
                if row.errors:
                    self.result.failed += 1
                    self.result.errors.extend(row.errors)

    def _resolve_and_write(self, row: ParsedRow, items: dict[str, ServiceItem]) -> None:
        std = self.standards.get(row.standard_code)
        region = self.regions.get(row.region_code)
        if std is None:
            self._err(
                row, "standard", _("基本编码“%(code)s”在基本目录中不存在。") % {"code": row.standard_code}
            )
        if region is None:
            self._err(row, "region", _("区划代码“%(code)s”不存在。") % {"code": row.region_code})
            return
        dept = self.departments.get((region.pk, row.department_code))
        if dept is None:
            self._err(
                row,
                "department",
                _("区划“%(region)s”（%(rc)s）下没有部门代码为“%(code)s”的部门。")
                % {"region": region.name, "rc": region.code, "code": row.department_code},
            )
            return
        if std is None:
            return
        if not self._can_manage(dept):
            self._err(
                row, "department", _("您无权管理“%(dept)s”的实施清单，本行未导入。") % {"dept": dept.name}
            )
            return
        for e in services.check_claim(std, dept):
            self._err(row, "region" if e.field == "region" else "department", e.message)
        expected = services.implementation_code(std, dept)
        if row.code and row.code != expected:
            self._err(
                row,
                "code",
                _("实施编码 %(code)s 与基本编码、区划代码、部门代码不符：按这三项应为 %(expected)s。")
                % {"code": row.code, "expected": expected},
            )
        if not row.code:
            row.code = expected
            first = self.seen_codes.get(expected)
            if first is not None:
                self._err(
                    row,
                    "standard",
                    _("与第 %(row)s 行是同一事项（实施编码 %(code)s）：同一事项在一个文件中只能出现一次。")
                    % {"row": first, "code": expected},
                )
            else:
                self.seen_codes[expected] = row.number
        item = items.get(expected)
        self._check_limits(row, std, item)
        if row.errors:
            return
        # A plain create is one call to create_implementation, atomic by itself; only updates and
        # publications write several things that must go back together (two queries per row saved).
        savepoint = transaction.atomic() if (item is not None or self.publish) else nullcontext()
        try:
            with savepoint:
                self._write(row, std, dept, item)
        except _RowFailed:
            pass
        except DomainError as e:
            for fe in e.errors:
                self._err(row, self._column_for(fe.field), fe.message)
        except ValidationError as e:
            self._validation_errors(row, e)
        except IntegrityError:
            # Another import or editor created the same item between our check and our write.
            self._err(row, "code", _("该事项刚被他人同时创建或修改，本行未导入；请重新导入本行。"))
        except Exception as e:  # a database error must cost one row, not the import
            log.exception("import row %s failed", row.number)
            self._err(row, "", _("保存失败：%(err)s") % {"err": str(e)[:200]})

    def _column_for(self, field_name: str) -> str:
        if field_name in COLUMN_BY_KEY:
            return field_name
        return {"approval_steps": STEPS}.get(field_name.split(".")[0], field_name.split(".")[0])

    def _validation_errors(self, row: ParsedRow, e: ValidationError) -> None:
        if hasattr(e, "message_dict"):
            for key, messages in e.message_dict.items():
                for m in messages:
                    self._err(row, self._column_for(key), m)
        else:
            for m in e.messages:
                self._err(row, "", m)

    def _check_limits(self, row: ParsedRow, std: StandardItem, item: ServiceItem | None) -> None:
        v = row.values
        if "statutory_limit_days" in v:
            statutory = v["statutory_limit_days"]
        else:
            statutory = item.statutory_limit_days if item is not None else None
        if statutory is None:
            statutory = std.statutory_limit_days
        promised = v.get("promised_limit_days", item.promised_limit_days if item else None)
        if promised is not None and statutory is not None and promised > statutory:
            self._err(
                row,
                "promised_limit_days",
                _("承诺时限须为不超过法定时限的整数（承诺 %(p)s，法定 %(s)s）。")
                % {
                    "p": ngettext("%(n)s 个工作日", "%(n)s 个工作日", promised) % {"n": promised},
                    "s": ngettext("%(n)s 个工作日", "%(n)s 个工作日", statutory) % {"n": statutory},
                },
            )

    # --- writing --------------------------------------------------------------------------------

    def _materials_with_links(
        self, materials: list[dict[str, Any]], std: StandardItem, item: ServiceItem | None
    ):
        """Keep each material's link to the standard material it came from, matched by name."""
        links = {m.name: m for m in std.materials.all()}
        if item is not None:
            for m in item.materials.all():
                if m.standard_material_id:
                    links.setdefault(m.name, m.standard_material)
        return [{**m, "standard_material": links.get(m["name"])} for m in materials]

    def _write(self, row: ParsedRow, std: StandardItem, dept: Department, item: ServiceItem | None) -> None:
        values = dict(row.values)
        if values.get("consult_phone") == "" and dept.phone:
            # A blank 咨询电话 is the department's phone, as create_implementation fills it in: read
            # the same way on every import, an unchanged file changes nothing the second time.
            values["consult_phone"] = dept.phone
        materials = values.pop(MATERIALS, None)
        steps = values.pop(STEPS, None)
        created = item is None
        changed: list[str] = []
        if item is None:
            elements = dict(values)
            if materials is not None:
                elements[MATERIALS] = self._materials_with_links(materials, std, None)
            if steps is not None:
                elements[STEPS] = steps
            item = services.create_implementation(standard=std, department=dept, user=self.user, **elements)
        else:
            for key, value in values.items():
                if getattr(item, key) != value:
                    setattr(item, key, value)
                    changed.append(key)
            scalar = list(changed)
            if materials is not None and [m.as_element() for m in item.materials.all()] != materials:
                item.materials.all().delete()
                ItemMaterial.objects.bulk_create(
                    ItemMaterial(item=item, sort=i, **m)
                    for i, m in enumerate(self._materials_with_links(materials, std, item))
                )
                changed.append(MATERIALS)
            if steps is not None and [_step_element(s) for s in item.steps.all()] != steps:
                item.steps.all().delete()
                ProcessStep.objects.bulk_create(
                    ProcessStep(item=item, sort=i, **s) for i, s in enumerate(steps)
                )
                changed.append(STEPS)
            if changed:
                item.full_clean(
                    exclude=["standard", "region", "department", "code", "current_version"],
                    validate_unique=False,
                    validate_constraints=False,
                )
                item.save(update_fields=[*scalar, "updated_at"])
                services.mark_changed(item, user=self.user, changed_fields=changed)
        if self.publish and (created or changed or item.status != ItemStatus.PUBLISHED):
            try:
                services.publish(item, user=self.user, actor_label=self.actor_label)
            except DomainError as e:
                for fe in e.errors:
                    self._err(row, self._column_for(fe.field), _("发布未通过：%(msg)s") % {"msg": fe.message})
                raise _RowFailed from None
            self.result.published += 1
        if created:
            self.result.created += 1
        elif changed:
            self.result.updated += 1
        else:
            self.result.unchanged += 1


def _step_element(s: ProcessStep) -> dict[str, Any]:
    return {
        "name": s.name,
        "is_approval": s.is_approval,
        "handler": s.handler,
        "time_limit_days": s.time_limit_days,
        "criteria": s.criteria,
    }
