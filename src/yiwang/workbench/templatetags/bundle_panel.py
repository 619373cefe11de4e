"""``{% bundle_panel %}`` on the workbench case page: the bundle context of an umbrella or a
branch case (nothing for an ordinary case).

The umbrella (lead department) shows every branch: department, state, due date, working days
left, which one holds the bundle up, each branch's decision document, and the outcome rule's
result with the unified decision. A branch shows its bundle, the umbrella case, the other
departments' progress (states only, none of their data) and the form that asks for a
correction through the umbrella's one combined request.
"""

from __future__ import annotations

from typing import Any

from django import template

from yiwang.bundles import selectors as bundle_selectors
from yiwang.workflow import selectors as wf_selectors

register = template.Library()


@register.inclusion_tag("bundles/workbench/panel.html", takes_context=True)
def bundle_panel(context: template.Context) -> dict[str, Any]:
    case = context.get("case")
    request = context.get("request")
    if case is None or request is None:
        return {"kind": ""}
    # Ordinary cases (nearly all) are marked by ``Case.bundle_role``: no bundle query for them.
    if not case.bundle_role:
        return {"kind": ""}
    user = request.user
    errors = context.get("errors") or {}
    if bundle_selectors.is_umbrella(case):
        overview = bundle_selectors.bundle_overview(case)
        rows = bundle_selectors.branches_for_staff(user, case)
        # The bundle's hold-up is decided over every branch, not only those this reader sees.
        held = overview.holding_up.branch.pk if overview.holding_up else None
        for r in rows:
            r.holding_up = r.branch.pk == held
        holding = next((r for r in rows if r.holding_up), None)
        tasks = [t for t in wf_selectors.open_tasks(case) if t.spec_name == "decide"]
        may_decide = any(wf_selectors.may_work(user, t) for t in tasks)
        return {
            "kind": "umbrella",
            "case": case,
            "o": overview,
            "rows": rows,
            "holding": holding,
            "outcome": overview.outcome,  # set once every branch is decided
            "may_decide": may_decide,
            "errors": errors,
        }
    branch = bundle_selectors.branch_of(case)
    if branch is None:
        return {"kind": ""}
    overview = bundle_selectors.bundle_overview(branch.umbrella)
    review = [t for t in wf_selectors.open_tasks(case) if t.spec_name == "review"]
    may_correct = any(wf_selectors.may_work(user, t) for t in review)
    return {
        "kind": "branch",
        "case": case,
        "branch": branch,
        "o": overview,
        "siblings": overview.rows,
        "may_correct": may_correct,
        "materials": case.item_version.elements.get("materials") or [],
        "fields": [
            {"key": k, "label": v.get("title") or k}
            for k, v in case.application.form_schema.get("properties", {}).items()
        ],
        "errors": errors,
    }
