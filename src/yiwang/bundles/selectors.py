"""Reads of the bundles app for pages: bundle definitions, a bundle case's overview, what a
staff member may see of a bundle case, and the supervisor's list of bundles held up."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .models import Bundle, BundleBranch


@dataclass
class BranchRow:
    branch: BundleBranch
    case: object  # cases.Case of the branch
    department_name: str
    item_name: str
    state: str  # the branch case's state
    state_label: str
    advisory: bool
    outcome: str  # "", "approved", "denied"
    due_date: dt.date | None
    days_left: int | None  # working days; negative when overdue; None once decided
    holding_up: bool = False
    decision_notice: object | None = None  # cases.Notice of the branch decision


@dataclass
class BundleOverview:
    bundle: Bundle
    umbrella: object  # cases.Case
    rows: list[BranchRow] = field(default_factory=list)
    holding_up: BranchRow | None = None
    outcome: object | None = None  # services.BundleOutcome once every branch is decided


@dataclass
class HeldUp:
    umbrella: object
    bundle: Bundle
    row: BranchRow


def published_bundles():
    raise NotImplementedError


def bundle_for_item(item) -> Bundle | None:
    raise NotImplementedError


def is_umbrella(case) -> bool:
    raise NotImplementedError


def branch_of(case) -> BundleBranch | None:
    raise NotImplementedError


def bundle_overview(umbrella, *, today: dt.date | None = None) -> BundleOverview:
    raise NotImplementedError


def branches_for_staff(user, umbrella, *, today: dt.date | None = None) -> list[BranchRow]:
    raise NotImplementedError


def held_up_bundles(user=None, *, today: dt.date | None = None) -> list[HeldUp]:
    raise NotImplementedError
