"""Render docs/permissions.md from the permission table (tests/security/permission_table.py).

    python -m tests.security.permission_doc > docs/permissions.md

``test_permission_matrix.test_permissions_doc_is_current`` fails when the doc and the table differ.
"""

from __future__ import annotations

from tests.security import permission_table as t

HEADER = """# Permissions: who may do what

Generated from `tests/security/permission_table.py` by
`python -m tests.security.permission_doc > docs/permissions.md`; do not edit by hand.
`tests/security/test_permission_matrix.py` plays every row below for every actor and record
against the real views, fails when a URL exists that has no row, and checks that this page is
current. Refusals write nothing (no audit entry; "no effect" rows leave the record unchanged).

Per-object rules are checked in the services too, not only in the views: the `test_service_*`
tests in the same file call them directly for every actor (`cases.selectors.can_view_case`;
`cases.services` draft writes, which also re-check a company mandate and a counter clerk's role
at each write; `cases.actions` role, department and region of the open task;
`cases.services.save_item_form`). Catalogue edits by scope are in
`tests/identity/accounts/test_permission_matrix.py`.
"""


def _cell(route: t.Route, actor: str) -> str:
    allowed = route.allow.get(actor)
    if allowed is None:
        return ""
    if allowed == t.ALL or not route.records or set(allowed) >= set(route.records):
        return "all" if route.records else "yes"
    return ", ".join(allowed)


def _allowed(route: t.Route) -> str:
    """Actors grouped by what they may reach: "everyone", or "`a`, `b` (case_lin, case_huang)"."""
    groups: dict[str, list[str]] = {}
    for actor in t.ACTORS:
        cell = _cell(route, actor)
        if cell:
            groups.setdefault(cell, []).append(actor)
    if not groups:
        return "nobody"
    parts = []
    for cell, actors in groups.items():
        who = "everyone" if actors == list(t.ACTORS) else ", ".join(f"`{a}`" for a in actors)
        parts.append(who if cell in ("all", "yes") else f"{who} ({cell})")
    return "; ".join(parts)


def _refusals(route: t.Route) -> str:
    parts = []
    if "anonymous" not in route.allow:
        parts.append(f"anonymous: {t.OUTCOME_TEXT.get(route.anonymous, route.anonymous)}")
    others = [a for a in t.ACTORS if a != "anonymous" and route.allow.get(a) != t.ALL]
    by_outcome: dict[str, list[str]] = {}
    for a in others:
        by_outcome.setdefault(route.refused_for.get(a, route.refused), []).append(a)
    if len(by_outcome) == 1:
        (outcome,) = by_outcome
        if parts and outcome == route.anonymous:
            parts = []  # anonymous and everyone else alike
        parts.append(f"otherwise: {t.OUTCOME_TEXT.get(outcome, outcome)}")
    else:
        default = route.refused
        for outcome, actors in by_outcome.items():
            if outcome != default:
                parts.append(f"{', '.join(actors)}: {t.OUTCOME_TEXT.get(outcome, outcome)}")
        if default in by_outcome:
            parts.append(f"otherwise: {t.OUTCOME_TEXT.get(default, default)}")
    return "; ".join(parts) if others or "anonymous" not in route.allow else ""


def render() -> str:
    out = [HEADER, "## Actors", "", "| actor | who |", "|---|---|"]
    out += [f"| `{k}` | {v} |" for k, v in t.ACTORS.items()]
    out += ["", "## Records", "", "| record | what |", "|---|---|"]
    out += [f"| `{k}` | {v} |" for k, v in t.RECORDS.items()]
    out += [
        "",
        "## Pages and API endpoints",
        "",
        "Each row: the URL pattern, the method the matrix sends, who may (with the records they may "
        "reach, when not all), how everyone else is refused.",
        "",
        "| URL | method | what | allowed | refused |",
        "|---|---|---|---|---|",
    ]
    for r in t.ROUTES:
        allowed = _allowed(r)
        what = r.what + (f" — {r.note}" if r.note else "")
        pattern = "admin/<app_label>/" if r.pattern.startswith("admin/^(?P<app_label>") else r.pattern or "/"
        pattern = pattern.replace("|", "\\|")
        out.append(f"| `{pattern}` | {r.method} | {what} | {allowed} | {_refusals(r)} |")
    out += [
        "",
        "## Back office: model pages",
        "",
        "Every model registered in the admin has a list, an add form, and per record change, history,",
        "delete and a bare `<id>/` that redirects to change (the matrix opens a record's pages where",
        "the world has one of the model). Accounts that are not back-office",
        "accounts (`is_staff`) are sent to the login page; back-office accounts without the right",
        "get 403. Scoped models show a catalogue admin only the records of departments in their",
        "scope; another department's record redirects to the admin index as if it did not exist.",
        "",
        "| model | list and records | add | delete | scoped | note |",
        "|---|---|---|---|---|---|",
    ]
    for label, m in t.ADMIN_MODELS.items():
        view = ", ".join(f"`{a}`" for a in m.view) or "nobody"
        add = ", ".join(f"`{a}`" for a in m.add) or "nobody"
        delete = ", ".join(f"`{a}`" for a in m.delete) or "nobody"
        out.append(f"| `{label}` | {view} | {add} | {delete} | {'yes' if m.scoped else ''} | {m.note} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render(), end="")
