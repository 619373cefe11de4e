"""Writes of the bundles app: definitions, publication, applications and the joint process.

Public API (docs/bundles.md). Every function checks permission when given a user, runs in one
transaction and writes the audit log. The umbrella and branch cases are ordinary
``cases.Case`` rows moved by ``cases.actions``; this module adds what a bundle needs around
them, driven by the signals of ``cases.signals`` (see ``receivers``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from yiwang.core.errors import FieldError

from .models import (
    Bundle,
    BundleBranch,
    BundleField,
    BundleMaterial,
    BundleMember,
    OutcomeRule,
    Question,
)


@dataclass
class CombinedForm:
    fields: list[BundleField]
    materials: list[BundleMaterial]


@dataclass
class BundleOutcome:
    """The unified decision the outcome rule gives: ``decision`` approve/deny, the binding
    denials (they deny the whole) and the advisory ones (shown, not binding)."""

    decision: str
    binding_denials: list[BundleBranch] = field(default_factory=list)
    advisory_denials: list[BundleBranch] = field(default_factory=list)
    reasons: str = ""


# --- definitions ----------------------------------------------------------------------------------


def create_bundle(
    *,
    user,
    code: str,
    name: str,
    kind: str,
    lead_department,
    overall_limit_days: int | None = None,
    outcome_rule: str = OutcomeRule.ALL_MUST_APPROVE,
    description: str = "",
    audience: str = "both",
    life_event=None,
) -> Bundle:
    raise NotImplementedError


def update_bundle(bundle: Bundle, *, user, **fields: Any) -> Bundle:
    raise NotImplementedError


def add_member(
    bundle: Bundle,
    item,
    *,
    user,
    advisory: bool = False,
    limit_days: int | None = None,
    order: int | None = None,
    condition: str = "",
) -> BundleMember:
    raise NotImplementedError


def update_member(member: BundleMember, *, user, **fields: Any) -> BundleMember:
    raise NotImplementedError


def remove_member(member: BundleMember, *, user) -> None:
    raise NotImplementedError


def save_question(
    bundle: Bundle,
    *,
    user,
    key: str,
    text: str,
    choices: list[dict[str, str]],
    help: str = "",
    order: int | None = None,
) -> Question:
    raise NotImplementedError


def rebuild_combined_form(bundle: Bundle, *, user=None) -> CombinedForm:
    raise NotImplementedError


def merge_fields(bundle: Bundle, keys: list[str], *, into: str, user) -> BundleField:
    raise NotImplementedError


def rename_field(
    bundle_field: BundleField, *, user, key: str | None = None, title: str | None = None
) -> BundleField:
    raise NotImplementedError


def publication_problems(bundle: Bundle) -> list[FieldError]:
    raise NotImplementedError


def publish_bundle(bundle: Bundle, *, user=None):
    raise NotImplementedError


# --- applying -------------------------------------------------------------------------------------


def applicable_members(bundle: Bundle, answers: dict[str, Any]) -> list[BundleMember]:
    raise NotImplementedError


def combined_schema(bundle: Bundle, members: list[BundleMember]) -> dict[str, Any]:
    raise NotImplementedError


def combined_materials(bundle: Bundle, members: list[BundleMember]) -> list[dict[str, Any]]:
    raise NotImplementedError


def start_bundle_application(
    user,
    bundle: Bundle,
    answers: dict[str, Any],
    *,
    acting_for=None,
    channel: str = "web",
    entered_by=None,
    idempotency_key: str | None = None,
):
    raise NotImplementedError


def missing_materials(application) -> list[str]:
    raise NotImplementedError


def submit_bundle(application, *, user):
    raise NotImplementedError


# --- the joint process ----------------------------------------------------------------------------


def spawn_branches(umbrella, *, actor=None) -> list[BundleBranch]:
    raise NotImplementedError


def request_branch_correction(branch_case, *, actor, items: list[dict[str, str]]):
    raise NotImplementedError


def on_branch_correction(case, items: list[dict[str, str]]) -> None:
    raise NotImplementedError


def correct_bundle(umbrella, *, user, data: dict[str, Any] | None = None):
    raise NotImplementedError


def on_branch_decided(case) -> None:
    raise NotImplementedError


def outcome_of(umbrella) -> BundleOutcome:
    raise NotImplementedError


def decide_bundle(umbrella, *, actor, reasons: str = ""):
    raise NotImplementedError


def on_umbrella_delivered(case) -> None:
    raise NotImplementedError


def on_umbrella_closed(case) -> None:
    raise NotImplementedError
