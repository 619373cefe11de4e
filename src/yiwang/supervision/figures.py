"""Figures (效能): what each step of a case adds to the day rollups, the fold that sums those
additions into ``DailyFigure``, and the recount from the cases (docs/supervision.md "Figures").

A step never updates a rollup row: its receiver inserts one ``FigureDelta`` row in the step's
transaction (insert only, so two staff actions on the same item and day never wait for each
other), and ``fold`` sums the committed deltas into the day rows and deletes them. Folds and the
recount (``rebuild``) take the ``FigureFold`` row's lock, so they run one at a time.

Which day a case counts on, and the rule of each column, is written once here (``_submission``,
``_decision``) for the receivers and the recount alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.cases.models import (
    Case,
    CaseChannel,
    CaseMaterial,
    CorrectionRequest,
    DeliveryMethod,
    MaterialOrigin,
    Outcome,
)
from yiwang.core import audit
from yiwang.core.errors import FieldError, ValidationFailed
from yiwang.worktime import selectors as worktime

from .models import FIGURE_COLUMNS, SATISFIED_AT_LEAST, DailyFigure, FigureDelta, FigureFold

Key = tuple[dt.date, int, int, int]  # day, region, department, item
Counts = dict[str, int]

# Materials that count as reused: an e-certificate or a base-registry record, not an upload.
REUSED_ORIGINS = (MaterialOrigin.E_CERTIFICATE, MaterialOrigin.REGISTRY)
# Rows read per fold: a fold inside the lag target sums a few seconds of steps; a backlog (the
# job stopped for a while) is worked off in several transactions.
FOLD_BATCH = 20000
_DELETE_CHUNK = 900  # under SQLite's parameter limit on old builds


# --- the rules of the columns -----------------------------------------------------------------


def visits(channel: str, delivery_method: str) -> int:
    """On-site visits a case asks of the applicant, as applied for: one to hand the application
    in at a counter (``channel`` counter), one to collect the result at a counter (delivery
    method counter). Web submission and courier or electronic delivery need none."""
    return int(channel == CaseChannel.COUNTER) + int(delivery_method == DeliveryMethod.COUNTER)


def _submission(channel: str, delivery_method: str) -> Counts:
    n = visits(channel, delivery_method)
    return {"received": 1, "fully_online": int(n == 0), "one_visit": int(n <= 1)}


def _decision(
    *,
    outcome: str,
    decided_day: dt.date,
    due_date: dt.date | None,
    limit_days: int | None,
    statutory: Any,
    reused: bool,
) -> Counts:
    """A decision's counts: decided, approved or denied, reuse, and when the case has a clock
    (accepted with a limit): on time (decided on or before the due day, pauses already in it) or
    overdue, the working days used (the limit less the working days left on the decision day),
    the promised limit and the statutory one (the promised one when the guide names none)."""
    counts = {
        "decided": 1,
        "approved": int(outcome == Outcome.APPROVED),
        "denied": int(outcome == Outcome.DENIED),
        "cert_reuse": int(reused),
    }
    if limit_days is not None and due_date is not None:
        try:
            statutory_days = int(statutory) if statutory not in (None, "") else limit_days
        except (TypeError, ValueError):
            statutory_days = limit_days
        counts |= {
            "timed": 1,
            "on_time": int(decided_day <= due_date),
            "overdue": int(decided_day > due_date),
            "days_used": limit_days - worktime.working_days_between(decided_day, due_date),
            "promised_days": limit_days,
            "statutory_days": statutory_days,
        }
    return counts


def _local_day(at: dt.datetime) -> dt.date:
    return timezone.localdate(at)


# --- deltas (called by the receivers, in the step's transaction) -------------------------------


def _add(case: Case, day: dt.date, counts: Counts) -> None:
    FigureDelta.objects.create(
        day=day, region_id=case.region_id, department_id=case.department_id, item_id=case.item_id, **counts
    )


def case_submitted(case: Case) -> None:
    counts = _submission(case.channel, case.delivery_method)
    day = _local_day(case.submitted_at)
    if case.accepted_on is not None:  # a bundle's branch case is made accepted
        if case.accepted_on == day:
            counts["accepted"] = 1
        else:
            _add(case, case.accepted_on, {"accepted": 1})
    _add(case, day, counts)


def case_accepted(case: Case) -> None:
    _add(case, case.accepted_on or timezone.localdate(), {"accepted": 1})


def case_refused(case: Case) -> None:
    _add(case, _local_day(case.closed_at or timezone.now()), {"refused": 1})


def correction_requested(case: Case, actor: Any) -> None:
    # Counted as the recount counts CorrectionRequest rows: those a staff member issued (an
    # umbrella's combined request, made by the system from its branches' requests, is not).
    if actor is not None:
        _add(case, timezone.localdate(), {"corrections": 1})


def case_decided(case: Case) -> None:
    elements = case.item_version.elements or {}
    reused = CaseMaterial.objects.filter(case=case, replaced=False, origin__in=REUSED_ORIGINS).exists()
    decided_at = case.decided_at or timezone.now()
    _add(
        case,
        _local_day(decided_at),
        _decision(
            outcome=case.outcome,
            decided_day=_local_day(decided_at),
            due_date=case.due_date,
            limit_days=case.limit_days,
            statutory=elements.get("statutory_limit_days"),
            reused=reused,
        ),
    )


def note_rating(case: Case, score: int, *, day: dt.date | None = None, replaces: int | None = None) -> None:
    """Count one rating of ``case`` (score 1 非常不满意 … 5 非常满意) on the figures of its item
    for ``day`` (today). A re-rating passes the score it ``replaces`` and the original's day: it
    changes that day's satisfied count and rates nothing new, as it replaces the original in the
    guide's and the ranking's totals. Called by the ratings service in the transaction that
    records the rating. Raises ``ValidationFailed`` for a score outside 1–5."""
    for value in (score, replaces) if replaces is not None else (score,):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            raise ValidationFailed([FieldError("score", _("评价等级应为 1 至 5。"), "invalid")])
    satisfied = int(score >= SATISFIED_AT_LEAST)
    if replaces is None:
        counts = {"rated": 1, "satisfied": satisfied}
    else:
        counts = {"satisfied": satisfied - int(replaces >= SATISFIED_AT_LEAST)}
    if any(counts.values()):
        _add(case, day or timezone.localdate(), counts)


# --- the fold ------------------------------------------------------------------------------------


def _lock() -> FigureFold:
    row = FigureFold.objects.select_for_update().filter(pk=1).first()
    if row is None:
        FigureFold.objects.get_or_create(pk=1)
        row = FigureFold.objects.select_for_update().get(pk=1)
    return row


def _merge(into: dict[Key, Counts], key: Key, counts: Counts) -> None:
    target = into.setdefault(key, dict.fromkeys(FIGURE_COLUMNS, 0))
    for column, value in counts.items():
        target[column] += value


def _write(sums: dict[Key, Counts], *, replace: Iterable[str] = ()) -> None:
    """Add ``sums`` to the day rows (``replace``: columns set, not added)."""
    if not sums:
        return
    replace = set(replace)
    days = {k[0] for k in sums}
    items = {k[3] for k in sums}
    existing = {
        (f.day, f.region_id, f.department_id, f.item_id): f
        for f in DailyFigure.objects.filter(day__in=days, item_id__in=items)
    }
    new, changed = [], []
    for key, counts in sums.items():
        row = existing.get(key)
        if row is None:
            day, region, department, item = key
            new.append(
                DailyFigure(day=day, region_id=region, department_id=department, item_id=item, **counts)
            )
            continue
        for column in FIGURE_COLUMNS:
            value = counts[column]
            setattr(row, column, value if column in replace else getattr(row, column) + value)
        changed.append(row)
    DailyFigure.objects.bulk_create(new, batch_size=500)
    DailyFigure.objects.bulk_update(changed, list(FIGURE_COLUMNS), batch_size=500)


def _fold_locked(fold: FigureFold, batch: int) -> int:
    rows = list(
        FigureDelta.objects.order_by("pk").values_list(
            "pk", "day", "region_id", "department_id", "item_id", *FIGURE_COLUMNS
        )[:batch]
    )
    if not rows:
        return 0
    sums: dict[Key, Counts] = {}
    for row in rows:
        _merge(sums, (row[1], row[2], row[3], row[4]), dict(zip(FIGURE_COLUMNS, row[5:], strict=True)))
    _write(sums)
    # By id: a delta committed after the read above stays for the next fold.
    ids = [row[0] for row in rows]
    for i in range(0, len(ids), _DELETE_CHUNK):
        FigureDelta.objects.filter(pk__in=ids[i : i + _DELETE_CHUNK]).delete()
    fold.folded_at = timezone.now()
    fold.folded += len(rows)
    fold.save(update_fields=["folded_at", "folded"])
    return len(rows)


def fold(batch: int = FOLD_BATCH) -> int:
    """Sum the committed deltas into the day rows, ``batch`` at a time, one transaction each,
    until none is left; the number of deltas folded."""
    total = 0
    while True:
        with transaction.atomic():
            n = _fold_locked(_lock(), batch)
        total += n
        if n < batch:
            return total


@dataclass(frozen=True)
class Lag:
    pending: int
    oldest: dt.datetime | None
    folded_at: dt.datetime | None


def lag() -> Lag:
    """The deltas waiting for a fold and the oldest one's time (the figures lag the cases by at
    most now − oldest)."""
    first = FigureDelta.objects.order_by("pk").values_list("at", flat=True).first()
    state = FigureFold.objects.filter(pk=1).values_list("folded_at", flat=True).first()
    return Lag(pending=FigureDelta.objects.count(), oldest=first, folded_at=state)


# --- the recount ---------------------------------------------------------------------------------


def _start_of(day: dt.date | None) -> dt.datetime | None:
    if day is None:
        return None
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def recount(since: dt.date | None = None) -> dict[Key, Counts]:
    """Every counted column but the ratings, from the cases, for the days from ``since`` (all
    days without): the reference the rollups must equal."""
    start = _start_of(since)
    sums: dict[Key, Counts] = {}
    keys = ("region_id", "department_id", "item_id")

    cases = Case.objects.all()
    received = cases if start is None else cases.filter(submitted_at__gte=start)
    for r in received.values("submitted_at", "channel", "delivery_method", *keys).iterator(chunk_size=2000):
        day = _local_day(r["submitted_at"])
        _merge(
            sums,
            (day, r["region_id"], r["department_id"], r["item_id"]),
            _submission(r["channel"], r["delivery_method"]),
        )

    accepted = cases.filter(accepted_on__isnull=False)
    if since is not None:
        accepted = accepted.filter(accepted_on__gte=since)
    for r in accepted.values("accepted_on", *keys).iterator(chunk_size=2000):
        _merge(sums, (r["accepted_on"], r["region_id"], r["department_id"], r["item_id"]), {"accepted": 1})

    refused = cases.filter(outcome=Outcome.REFUSED, closed_at__isnull=False)
    if start is not None:
        refused = refused.filter(closed_at__gte=start)
    for r in refused.values("closed_at", *keys).iterator(chunk_size=2000):
        _merge(
            sums,
            (_local_day(r["closed_at"]), r["region_id"], r["department_id"], r["item_id"]),
            {"refused": 1},
        )

    decided = cases.filter(decided_at__isnull=False)
    if start is not None:
        decided = decided.filter(decided_at__gte=start)
    reusing = set(
        CaseMaterial.objects.filter(
            case__in=decided.values("pk"), replaced=False, origin__in=REUSED_ORIGINS
        ).values_list("case_id", flat=True)
    )
    fields = (
        "pk",
        "decided_at",
        "outcome",
        "due_date",
        "limit_days",
        "item_version__elements__statutory_limit_days",
    )
    for r in decided.values(*fields, *keys).iterator(chunk_size=2000):
        day = _local_day(r["decided_at"])
        counts = _decision(
            outcome=r["outcome"],
            decided_day=day,
            due_date=r["due_date"],
            limit_days=r["limit_days"],
            statutory=r["item_version__elements__statutory_limit_days"],
            reused=r["pk"] in reusing,
        )
        _merge(sums, (day, r["region_id"], r["department_id"], r["item_id"]), counts)

    corrections = CorrectionRequest.objects.filter(requested_by__isnull=False)
    if start is not None:
        corrections = corrections.filter(requested_at__gte=start)
    for r in corrections.values(
        "requested_at", "case__region_id", "case__department_id", "case__item_id"
    ).iterator(chunk_size=2000):
        key = (
            _local_day(r["requested_at"]),
            r["case__region_id"],
            r["case__department_id"],
            r["case__item_id"],
        )
        _merge(sums, key, {"corrections": 1})
    return sums


RECOUNTED = tuple(c for c in FIGURE_COLUMNS if c not in ("rated", "satisfied"))


def rebuild(since: dt.date | None = None) -> int:
    """Recount the day rows from ``since`` (every day without) from the cases, keeping their
    rating columns (the ratings are not counted from cases). Idempotent. Returns the number of
    day rows written.

    Exact under concurrent steps: it folds the pending deltas first and, on PostgreSQL, holds the
    delta table in EXCLUSIVE mode to its commit, so a step that changes figures either committed
    before (its delta is folded, its change recounted) or waits to insert its delta until the
    rebuild commits (its change is not seen by the recount, its delta folds later). SQLite's
    writers are serialised anyway. Steps that change figures wait while it runs."""
    with transaction.atomic():
        fold_row = _lock()
        conn = connections[FigureDelta.objects.db]
        if conn.vendor == "postgresql":
            with conn.cursor() as cursor:
                cursor.execute(
                    f"LOCK TABLE {conn.ops.quote_name(FigureDelta._meta.db_table)} IN EXCLUSIVE MODE"
                )
        while _fold_locked(fold_row, FOLD_BATCH) == FOLD_BATCH:
            pass
        sums = recount(since)
        stale = DailyFigure.objects.all() if since is None else DailyFigure.objects.filter(day__gte=since)
        stale.update(**dict.fromkeys(RECOUNTED, 0))
        # Rating columns come from the rows as they are: added as 0 to what each row holds.
        _write(sums, replace=RECOUNTED)
        empty = {c: 0 for c in FIGURE_COLUMNS}
        stale.filter(**empty).delete()
        audit.record(
            "supervision.figures.rebuild",
            summary=f"rebuild figures since {since or 'the first case'}",
            detail={"since": since.isoformat() if since else None, "rows": len(sums)},
            object_type="supervision.dailyfigure",
        )
    return len(sums)
