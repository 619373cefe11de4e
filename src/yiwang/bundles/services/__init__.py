"""Writes of the bundles app: definitions, publication, applications and the joint process.

Public API (docs/bundles.md). Every function checks permission when given a user, runs in one
transaction and writes the audit log. The umbrella and branch cases are ordinary
``cases.Case`` rows, opened and moved by the cases app's services and actions; this package
adds what a bundle needs around them, driven by the signals of ``cases.signals`` (see
``receivers``).

- ``definitions``: who manages a bundle; the bundle, its members and questions.
- ``combined_form``: the combined form and shared materials.
- ``publication``: the checks and the bundle's catalogue item and umbrella process.
- ``applications``: the questionnaire, the umbrella draft and its submission.
- ``branches``: unified acceptance, branch decisions, delivery and closing with the umbrella.
- ``corrections``: a branch's correction request and the applicant's one combined correction.
- ``unified_decision``: the outcome rule and the lead department's one decision.
"""

from .applications import (
    applicable_members,
    bundle_link,
    check_answers,
    missing_materials,
    start_bundle_application,
    submit_bundle,
)
from .branches import (
    branch_definition,
    on_branch_decided,
    on_umbrella_closed,
    on_umbrella_delivered,
    spawn_branches,
    umbrella_link,
)
from .combined_form import (
    CombinedForm,
    combined_layout,
    combined_materials,
    combined_schema,
    forms_of,
    merge_fields,
    needed_materials,
    rebuild_combined_form,
    rename_field,
)
from .corrections import correct_bundle, on_branch_correction, request_branch_correction
from .definitions import (
    BUNDLE_FIELDS,
    CODE_RE,
    FIELD_KEY_RE,
    add_member,
    branch_limit,
    check_bundle_values,
    check_can_manage,
    create_bundle,
    remove_member,
    save_question,
    update_bundle,
    update_member,
)
from .publication import BUNDLE_STEPS, LEGAL_BASIS, publication_problems, publish_bundle
from .unified_decision import BundleOutcome, check_unified_decision, decide_bundle, outcome_of

__all__ = [
    "BUNDLE_FIELDS",
    "BUNDLE_STEPS",
    "CODE_RE",
    "FIELD_KEY_RE",
    "LEGAL_BASIS",
    "BundleOutcome",
    "CombinedForm",
    "add_member",
    "applicable_members",
    "branch_definition",
    "branch_limit",
    "bundle_link",
    "check_answers",
    "check_bundle_values",
    "check_can_manage",
    "check_unified_decision",
    "combined_layout",
    "combined_materials",
    "needed_materials",
    "combined_schema",
    "correct_bundle",
    "create_bundle",
    "decide_bundle",
    "forms_of",
    "merge_fields",
    "missing_materials",
    "on_branch_correction",
    "on_branch_decided",
    "on_umbrella_closed",
    "on_umbrella_delivered",
    "outcome_of",
    "publication_problems",
    "publish_bundle",
    "rebuild_combined_form",
    "remove_member",
    "rename_field",
    "request_branch_correction",
    "save_question",
    "spawn_branches",
    "start_bundle_application",
    "submit_bundle",
    "umbrella_link",
    "update_bundle",
    "update_member",
]
