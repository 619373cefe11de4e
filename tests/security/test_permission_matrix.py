"""The permission matrix: every URL of yiwang, every actor, own and other people's, companies',
departments' and regions' records, played against the real views (permission_table.py says
what each cell must answer; permission_world.py builds the records).

- ``test_every_url_is_in_the_table``: a new URL (or a removed one) fails until the table says
  who may use it, so the table stays complete and docs/permissions.md stays true.
- ``test_route``: one test per row; each actor × record; refusals must write nothing (no audit
  entry; for "no effect" rows the record is unchanged), allowed cells must work.
- ``test_admin_model``: each registered admin model's list, add, change, history, delete pages.
- ``test_permissions_doc_is_current``: docs/permissions.md is rendered from the table.

The world is built once per module inside a transaction that is rolled back at the end; each
test runs in a savepoint of its own, so a row's allowed writes (a revoked mandate, an ended
session) never leak into the next row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.db import transaction
from django.forms.models import model_to_dict
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.security import permission_doc
from tests.security import permission_table as table
from tests.security import permission_world as pw
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db

# --- the world, once per module ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("perm-media")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, media_dir):
    """Overrides tests/conftest.py's fixture: the module's world stored its files here."""
    settings.MEDIA_ROOT = media_dir
    settings.YIWANG_GUIDE_HEAD_TTL = 0
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, media_dir):
    with pw.built_once(django_db_blocker, media_dir) as w:
        yield w


@pytest.fixture
def w(world):
    """The world; each test runs in its own savepoint (``django_db``), rolled back after it."""
    return world


# --- URLs of the resolver ------------------------------------------------------------------------------


def resolver_patterns() -> list[str]:
    out: list[str] = []

    def walk(resolver: URLResolver, prefix: str) -> None:
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                walk(p, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                out.append(prefix + str(p.pattern))

    walk(get_resolver(), "")
    return out


_ADMIN_MODEL_URL = re.compile(
    r"^admin/(?P<app>\w+)/(?P<model>\w+)/(?:|add/|<path:object_id>/(?:history/|delete/|change/)?|"
    r"<id>/password/)$"
)


def admin_model_of(pattern: str) -> str | None:
    m = _ADMIN_MODEL_URL.match(pattern)
    return f"{m['app']}.{m['model']}" if m else None


APP_LIST = "admin/^(?P<app_label>"  # the admin's module list: its regex names every app


def _row_key(pattern: str) -> str:
    return APP_LIST if pattern.startswith(APP_LIST) else pattern


def test_every_url_is_in_the_table():
    patterns = [_row_key(p) for p in resolver_patterns()]
    rows = {r.pattern for r in table.ROUTES}
    registered = {m._meta.label_lower for m in admin.site._registry}
    missing = [
        p for p in patterns if p not in rows and not (admin_model_of(p) and admin_model_of(p) in registered)
    ]
    assert not missing, f"URLs without a row in tests/security/permission_table.py: {missing}"
    assert not (stale := rows - set(patterns)), f"rows for URLs that no longer exist: {stale}"
    assert registered == set(table.ADMIN_MODELS), (
        f"admin models and ADMIN_MODELS differ: {registered ^ set(table.ADMIN_MODELS)}"
    )
    assert len({r.pattern for r in table.ROUTES}) == len(table.ROUTES), "a pattern has two rows"
    for r in table.ROUTES:
        assert set(r.allow) <= set(table.ACTORS), r.pattern
        assert set(r.records) <= set(table.RECORDS), r.pattern


# --- one row ----------------------------------------------------------------------------------------


def _case(w, rec: str):
    return w.objects[rec.split("+")[0]]


def _material(w, rec: str) -> int:
    if rec == "case_lin+material_of_case_huang":
        return w.objects["case_huang"].materials.order_by("pk").first().pk
    return _case(w, rec).materials.order_by("pk").first().pk


def _notice(w, rec: str) -> int:
    return _case(w, rec).notices.order_by("pk").first().pk


URLS: dict[str, Callable[[Any, str | None], str]] = {
    "verify/certificate/<str:number>/": lambda w, r: (
        reverse("portal:verify_certificate", args=["ZZ0"]) + "?s=x"
    ),
    "verify/<str:number>/": lambda w, r: (
        reverse("portal:verify_notice", args=[_case(w, r).notices.order_by("pk").first().number])
        + f"?code={_case(w, r).check_code}"
    ),
    "items/<str:code>/": lambda w, r: reverse("portal:guide", args=[w.objects[r].code]),
    "items/<str:code>/versions/": lambda w, r: reverse("portal:versions", args=[w.objects[r].code]),
    "life-events/<str:code>/": lambda w, r: reverse("portal:life_event", args=[w.objects[r].code]),
    "apply/<str:code>/": lambda w, r: reverse("portal:apply", args=[w.objects[r].code]),
    "my/cases/<str:number>/": lambda w, r: reverse("portal:my_case", args=[_case(w, r).number]),
    "my/cases/<str:number>/receipt/": lambda w, r: reverse("portal:case_receipt", args=[_case(w, r).number]),
    "my/cases/<str:number>/materials/<id:material_id>/": lambda w, r: reverse(
        "portal:my_case_material", args=[_case(w, r).number, _material(w, r)]
    ),
    "my/cases/<str:number>/notices/<id:notice_id>/": lambda w, r: reverse(
        "portal:my_case_notice", args=[_case(w, r).number, _notice(w, r)]
    ),
    "workbench/cases/<id:case_id>/": lambda w, r: reverse("workbench:case", args=[_case(w, r).pk]),
    "workbench/cases/<id:case_id>/act/<str:name>/": lambda w, r: reverse(
        "workbench:act", args=[_case(w, r).pk, "transfer"]
    ),
    "workbench/cases/<id:case_id>/materials/<id:material_id>/": lambda w, r: reverse(
        "workbench:material", args=[_case(w, r).pk, _material(w, r)]
    ),
    "workbench/cases/<id:case_id>/notices/<id:notice_id>/": lambda w, r: reverse(
        "workbench:notice", args=[_case(w, r).pk, _notice(w, r)]
    ),
    "account/mandates/<id:mandate_id>/": lambda w, r: reverse("accounts:mandate", args=[w.objects[r].pk]),
    "account/mandates/<id:mandate_id>/revoke/": lambda w, r: reverse(
        "accounts:mandate_revoke", args=[w.objects[r].pk]
    ),
    "auth/sessions/<id:session_id>/end/": lambda w, r: reverse("auth:session_end", args=[w.objects[r].pk]),
    "o/consents/<id:pk>/revoke/": lambda w, r: reverse(
        "oauth2_provider:consent-revoke", args=[w.objects[r].pk]
    ),
    "o/^\\.well-known/openid-configuration/?$": lambda w, r: "/o/.well-known/openid-configuration/",
    "api/regions/<code>": lambda w, r: "/api/regions/350102",
    "api/departments/<department_id>": lambda w, r: f"/api/departments/{w.objects['dept'].pk}",
    "api/items/<code>": lambda w, r: f"/api/items/{w.objects['item'].code}",
    "api/items/<code>/versions": lambda w, r: f"/api/items/{w.objects['item'].code}/versions",
    "api/standard-items/<basic_code>": lambda w, r: "/api/standard-items/01020000100",
    "api/search": lambda w, r: "/api/search?q=食品",
    "admin/catalog/spreadsheets/runs/<id:run_id>/": lambda w, r: reverse(
        "spreadsheets:run", args=[w.objects[r].pk]
    ),
    "admin/catalog/spreadsheets/runs/<id:run_id>/report.xlsx": lambda w, r: reverse(
        "spreadsheets:report", args=[w.objects[r].pk]
    ),
    "admin/r/<path:content_type_id>/<path:object_id>/": lambda w, r: "/admin/r/1/1/",
    APP_LIST: lambda w, r: "/admin/catalog/",
    "admin/(?P<url>.*)$": lambda w, r: "/admin/no-such-page/",
    "admin/workflow/processdefinition/<id:pk>/diagram/": lambda w, r: reverse(
        "admin:workflow_processdefinition_diagram", args=[_definition_pk()]
    ),
    "admin/workflow/processdefinition/<id:pk>/download/": lambda w, r: reverse(
        "admin:workflow_processdefinition_download", args=[_definition_pk()]
    ),
}
URLS |= {
    "bundles/<slug:code>/": lambda w, r: "/bundles/no-such-bundle/",
    "my/certificates/<id:certificate_id>/file/": lambda w, r: reverse(
        "portal:certificate_file", args=[10**9]
    ),
    "bundles/<slug:code>/start/": lambda w, r: "/bundles/no-such-bundle/start/",
    "my/cases/<str:number>/branches/<id:branch_case_id>/notices/<id:notice_id>/": lambda w, r: reverse(
        "portal:my_branch_notice", args=[_case(w, r).number, _case(w, r).pk, _notice(w, r)]
    ),
    "workbench/bundles/cases/<id:case_id>/decide/": lambda w, r: reverse(
        "workbench:bundle_decide", args=[_case(w, r).pk]
    ),
    "workbench/bundles/cases/<id:case_id>/correction/": lambda w, r: (
        f"/workbench/bundles/cases/{_case(w, r).pk}/correction/"
    ),
    "workbench/bundles/cases/<id:case_id>/branches/<id:branch_case_id>/notices/<id:notice_id>/": (
        lambda w, r: (
            f"/workbench/bundles/cases/{_case(w, r).pk}/branches/{_case(w, r).pk}/notices/{_notice(w, r)}/"
        )
    ),
}
URLS |= {
    "workbench/exchange/catalogue/<id:resource_id>/": lambda w, r: reverse(
        "workbench:exchange_resource", args=[w.objects[r].pk]
    ),
    "workbench/exchange/catalogue/<id:resource_id>/request/": lambda w, r: reverse(
        "workbench:exchange_request_form", args=[w.objects[r].pk]
    ),
    "workbench/exchange/requests/<id:request_id>/": lambda w, r: "/workbench/exchange/requests/1/",
    "workbench/exchange/requests/<id:request_id>/approve/": lambda w, r: (
        "/workbench/exchange/requests/1/approve/"
    ),
    "workbench/exchange/requests/<id:request_id>/refuse/": lambda w, r: (
        "/workbench/exchange/requests/1/refuse/"
    ),
    "workbench/exchange/grants/<id:grant_id>/revoke/": lambda w, r: "/workbench/exchange/grants/1/revoke/",
    "workbench/exchange/clients/<id:client_id>/revoke/": lambda w, r: "/workbench/exchange/clients/1/revoke/",
    "api/exchange/catalogue/<code>": lambda w, r: (
        f"/api/exchange/catalogue/{w.objects['data_resource'].code}"
    ),
}
URLS |= {
    "opendata/api/3/action/<str:name>": lambda w, r: "/opendata/api/3/action/package_list",
    "opendata/api/action/<str:name>": lambda w, r: "/opendata/api/action/package_list",
    "opendata/<slug:name>/": lambda w, r: "/opendata/service-items/",
    "opendata/<slug:name>.jsonld": lambda w, r: "/opendata/service-items.jsonld",
    "opendata/<slug:name>.<slug:extension>": lambda w, r: "/opendata/service-items.csv",
}


def _new_order(w, rec: str | None) -> int:
    """A fresh open order of the supervisor on the department (the row's POST may answer it)."""
    from yiwang.supervision import orders

    return orders.issue(w.users["supervisor"], reason="督办", case=w.objects["case_lin"]).pk


URLS["workbench/orders/<id:order_id>/reply/"] = lambda w, r: reverse(
    "workbench:order_reply", args=[_new_order(w, r)]
)
URLS["workbench/orders/<id:order_id>/close/"] = lambda w, r: reverse(
    "workbench:order_close", args=[_new_order(w, r)]
)
URLS |= {
    "my/cases/<str:number>/rate/<slug:stage>/": lambda w, r: reverse(
        "portal:rate_case", args=[_case(w, r).number, "finished"]
    ),
    "my/cases/<str:number>/rerate/<id:rating_id>/": lambda w, r: reverse(
        "portal:rerate_case", args=[w.objects["case_lin"].number, 10**9]
    ),
    "rate/<str:token>/": lambda w, r: _rating_link(w),
    "workbench/ratings/follow-ups/<id:follow_up_id>/": lambda w, r: reverse(
        "workbench:rating_follow_up", args=[10**9]
    ),
}


def _rating_link(w) -> str:
    from yiwang.supervision.rating_selectors import rating_url

    return rating_url(w.objects["case_lin"], "finished")


URLS["workbench/bundles/counter/<slug:code>/"] = lambda w, r: "/workbench/bundles/counter/no-such-bundle/"
URLS["workbench/exchange/registries/<slug:code>/import/"] = lambda w, r: (
    "/workbench/exchange/registries/population/import/"
)
URLS["workbench/exchange/registries/<slug:code>/template/"] = lambda w, r: (
    "/workbench/exchange/registries/population/template/"
)
for _step in ("form", "materials", "delivery", "review"):
    URLS[f"workbench/bundles/counter/d/<id:application_id>/{_step}/"] = lambda w, r, s=_step: (
        f"/workbench/bundles/counter/d/{w.objects[r].pk}/{s}/"
    )
    URLS[f"bundles/d/<id:application_id>/{_step}/"] = lambda w, r, s=_step: (
        f"/bundles/d/{w.objects[r].pk}/{s}/"
    )
    URLS[f"apply/d/<id:application_id>/{_step}/"] = lambda w, r, s=_step: reverse(
        f"portal:apply_{s}", args=[w.objects[r].pk]
    )
    URLS[f"workbench/counter/d/<id:application_id>/{_step}/"] = lambda w, r, s=_step: reverse(
        f"workbench:counter_{s}", args=[w.objects[r].pk]
    )


def _definition_pk() -> int:
    from yiwang.workflow.models import ProcessDefinition

    return ProcessDefinition.objects.order_by("pk").values_list("pk", flat=True).first()


def url_of(route: table.Route, w, record: str | None) -> str:
    if route.pattern in URLS:
        return URLS[route.pattern](w, record)
    assert "<" not in route.pattern and "(" not in route.pattern, f"no URL builder for {route.pattern}"
    return "/" + route.pattern


def observe(response) -> str:
    status = response.status_code
    if status in (301, 302, 303):
        location = urlsplit(response["Location"])
        if location.path.endswith("/login/") and "next=" in location.query:
            return table.LOGIN
        return table.REDIRECT
    return table.OK if status == 200 else str(status)


def matches(expected: str, got: str, method: str) -> bool:
    """An allowed POST is done (a redirect or a page) or answered with a form error (400): the
    actor got past every permission check to the form's own validation."""
    if expected == table.OK and method == "POST":
        return got in (table.OK, table.REDIRECT, "201", "204", "400")
    return got == expected


def _snapshot(obj) -> dict[str, Any] | None:
    if obj is None or not hasattr(obj, "_meta"):
        return None
    fresh = type(obj)._default_manager.filter(pk=obj.pk).first()
    return model_to_dict(fresh) if fresh is not None else None


def _order(route: table.Route, actors: list[str]) -> list[str]:
    # Refused actors first: an allowed write (a revoked mandate) must not change what the
    # refusals of the same row are tried on.
    return sorted(actors, key=lambda a: route.allow.get(a) is not None)


def play(route: table.Route, w) -> list[str]:
    problems: list[str] = []
    records: list[str | None] = list(route.records) or [None]
    for actor in _order(route, list(table.ACTORS)):
        client = pw.client_for(w.users[actor])
        for record in records:
            expected = route.expected(actor, record)
            if route.method == "POST":  # a POST may have logged the client out
                client = pw.client_for(w.users[actor])
            url = url_of(route, w, record)
            target = w.objects.get(record.split("+")[0]) if record else None
            before = _snapshot(target)
            audit_before = AuditEntry.objects.count()
            response = getattr(client, route.method.lower())(url)
            got = observe(response)
            if expected == table.NO_EFFECT:
                if not matches(table.OK, got, "POST") or _snapshot(target) != before:
                    problems.append(f"{actor} × {record}: expected no effect, got {got} or a change")
                continue
            if not matches(expected, got, route.method):
                problems.append(f"{actor} × {record}: expected {expected}, got {got} ({url})")
            elif expected == table.OK and route.writes and _snapshot(target) == before:
                problems.append(f"{actor} × {record}: allowed, but the record did not change")
            if expected != table.OK and AuditEntry.objects.count() != audit_before:
                problems.append(f"{actor} × {record}: refused but an audit entry was written")
    return problems


@pytest.mark.parametrize("route", table.ROUTES, ids=lambda r: r.pattern or "/")
def test_route(route, w):
    problems = play(route, w)
    assert not problems, f"{route.method} {route.pattern}:\n  " + "\n  ".join(problems)


# --- the admin's model pages --------------------------------------------------------------------------


def _scoped_records(label: str, w) -> dict[str, Any]:
    """The department's record and the other city's, for a scoped admin model."""
    item, far = w.objects["item"], w.objects["far_item"]
    if label == "catalog.serviceitem":
        return {"own": item, "other": far}
    if label == "catalog.serviceitemversion":
        return {"own": item.current_version, "other": far.current_version}
    if label == "workflow.processbinding":
        from yiwang.workflow.models import ProcessBinding
        from yiwang.workflow.services import bind, ensure_templates

        definition = next(iter(ensure_templates().values()))
        for i in (item, far):
            if not ProcessBinding.objects.filter(item=i).exists():
                bind(i, definition)
        return {
            "own": ProcessBinding.objects.get(item=item),
            "other": ProcessBinding.objects.get(item=far),
        }
    if label == "cases.itemform":
        from yiwang.cases import formschema
        from yiwang.cases.models import ItemForm

        return {
            which: ItemForm.objects.get_or_create(
                item=i, defaults={"schema": formschema.default_schema(), "layout": {}}
            )[0]
            for which, i in (("own", item), ("other", far))
        }
    if label == "cases.case":
        return {"own": w.objects["case_lin"], "other": w.objects["case_far"]}
    if label == "cases.outboxmessage":
        from yiwang.cases.models import OutboxMessage

        return {
            which: OutboxMessage.objects.filter(case=w.objects[case]).first()
            or OutboxMessage.objects.create(
                channel="console", recipient_masked="***", template="submitted", case=w.objects[case]
            )
            for which, case in (("own", "case_lin"), ("other", "case_far"))
        }
    raise AssertionError(label)


SCOPE_OF = {"catalogue_dept": "own", "catalogue_region": "other"}


@pytest.mark.parametrize("label", sorted(table.ADMIN_MODELS))
def test_admin_model(label, w):
    spec = table.ADMIN_MODELS[label]
    model = next(m for m in admin.site._registry if m._meta.label_lower == label)
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    records = _scoped_records(label, w) if spec.scoped else {}
    first = model._default_manager.order_by("pk").first()
    problems: list[str] = []
    for actor, user in w.users.items():
        client = pw.client_for(user)
        obj = records.get(SCOPE_OF.get(actor, "own")) or first
        pages = {"changelist": base, "add": base + "add/"}
        if obj is not None:
            pages |= {
                "change": f"{base}{obj.pk}/change/",
                "history": f"{base}{obj.pk}/history/",
                "delete": f"{base}{obj.pk}/delete/",
                "object": f"{base}{obj.pk}/",
            }
        for page, url in pages.items():
            got = observe(client.get(url))
            if actor not in table.BACK_OFFICE:
                expected = table.LOGIN
            elif page == "object":
                expected = "302"  # to the change page, where the permission is checked
            elif page == "add":
                expected = table.OK if actor in spec.add else table.FORBIDDEN
            elif page == "delete":
                expected = table.OK if actor in spec.delete else table.FORBIDDEN
            else:
                expected = table.OK if actor in spec.view else table.FORBIDDEN
            if got != expected:
                problems.append(f"{actor} {page}: expected {expected}, got {got}")
        if spec.scoped and actor in spec.view:
            for which, rec in records.items():
                for page in ("change", "history"):
                    response = client.get(f"{base}{rec.pk}/{page}/")
                    got = observe(response)
                    own = SCOPE_OF.get(actor)
                    expected = table.OK if own in (None, which) else table.REDIRECT
                    if got != expected:
                        problems.append(
                            f"{actor} {page} of the {which} record: expected {expected}, got {got}"
                        )
                    elif got == table.REDIRECT and response["Location"] != "/admin/":
                        problems.append(
                            f"{actor} {page} of the {which} record: sent to {response['Location']}"
                        )
    assert not problems, f"admin {label}:\n  " + "\n  ".join(problems)


# --- the documentation ---------------------------------------------------------------------------------


def test_permissions_doc_is_current():
    doc = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
    assert doc.read_text(encoding="utf-8") == permission_doc.render(), (
        "docs/permissions.md is out of date: python -m tests.security.permission_doc > docs/permissions.md"
    )


# --- the same rules in the services ---------------------------------------------------------------------
# Views are not the only way in (the API, jobs, the admin, a future page): the per-object rules
# must hold when the services are called directly.


def _refused(call: Callable[[], Any]) -> bool:
    """Refused for want of a right (NotPermitted); any other answer (done, or a business rule such
    as an incomplete form) means the permission check let the actor through."""
    from yiwang.core.errors import DomainError, NotPermitted

    sid = transaction.savepoint()
    try:
        call()
    except NotPermitted:
        return True
    except DomainError:
        return False
    finally:
        transaction.savepoint_rollback(sid)
    return False


def test_service_case_visibility(w):
    """``cases.selectors.can_view_case`` (pages, files and the API use it) follows the table."""
    from yiwang.cases.selectors import can_view_case

    wrong = [
        f"{actor} × {rec}"
        for actor, user in w.users.items()
        for rec in table.CASES
        if can_view_case(user, w.objects[rec]) != (rec in (table.CASE_VIEWERS.get(actor) or ()))
    ]
    assert not wrong, wrong


DRAFT_OWNERS = {
    "draft_lin": {"applicant"},
    "draft_huang": {"other_person"},
    "draft_counter": {"other_person", "clerk"},
}


def test_service_drafts_are_their_owners(w):
    """save_draft, upload_material, provide_from_source and submit refuse everyone but the
    applicant (and the clerk who entered a counter application)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from yiwang.cases import services

    wrong = []
    for rec, owners in DRAFT_OWNERS.items():
        app = w.objects[rec]
        name = services.required_materials(app)[0]["name"]
        calls = {
            "save_draft": lambda u, a=app: services.save_draft(a, user=u, data={}),
            "upload_material": lambda u, a=app, n=name: services.upload_material(
                a, requirement=n, uploaded=SimpleUploadedFile("a.pdf", pw.PDF), user=u
            ),
            "provide_from_source": lambda u, a=app, n=name: services.provide_from_source(
                a, requirement=n, user=u
            ),
            "submit": lambda u, a=app: services.submit(a, user=u),
        }
        for actor, user in w.users.items():
            for what, call in calls.items():
                if _refused(lambda c=call, u=user: c(u)) == (actor in owners):
                    wrong.append(f"{what}: {actor} × {rec}")
    assert not wrong, wrong


def test_service_case_actions_check_role_department_and_region(w):
    """An action class refuses whoever does not hold the open task's role for the case's
    department (by department, by region, or province-wide); the workbench view is not the check."""
    from yiwang.cases.actions import Accept

    may_accept = {
        **dict.fromkeys(table.DEPT_CASES, {"clerk", "platform_admin", "superuser"}),
        "case_far": {"far_clerk", "platform_admin", "superuser"},
    }
    wrong = [
        f"accept: {actor} × {rec}"
        for actor, user in w.users.items()
        for rec in table.CASES
        if _refused(lambda r=rec, u=user: Accept(w.objects[r], u).run()) == (actor in may_accept[rec])
    ]
    assert not wrong, wrong


def test_service_item_form_follows_the_catalogue_scope(w):
    from yiwang.cases import formschema, services

    may = {
        "item": {"catalogue_dept", "catalogue_province", "platform_admin", "superuser"},
        "far_item": {"catalogue_region", "catalogue_province", "platform_admin", "superuser"},
    }
    schema, layout = formschema.default_schema(), formschema.default_layout()
    wrong = [
        f"save_item_form: {actor} × {rec}"
        for actor, user in w.users.items()
        for rec in may
        if _refused(
            lambda r=rec, u=user: services.save_item_form(w.objects[r], schema=schema, layout=layout, user=u)
        )
        == (actor in may[rec])
    ]
    assert not wrong, wrong


def test_service_revoked_mandate_ends_the_agents_draft(w):
    """An agent's draft for a company: once the legal representative revokes the mandate, the
    agent can no longer edit, upload to or submit it (the draft does not outlive the right)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from yiwang.cases import services
    from yiwang.identity import services as identity

    agent, item = w.users["agent"], w.objects["item"]
    company = w.objects["mandate_chen"].company
    app = pw._filled(agent, item, acting_for=company)
    identity.revoke_mandate(w.objects["mandate_chen"], by=company.legal_representative)
    name = services.required_materials(app)[0]["name"]
    refused = {
        "save_draft": _refused(lambda: services.save_draft(app, user=agent, data={})),
        "upload_material": _refused(
            lambda: services.upload_material(
                app, requirement=name, uploaded=SimpleUploadedFile("a.pdf", pw.PDF), user=agent
            )
        ),
        "submit": _refused(lambda: services.submit(app, user=agent)),
    }
    assert all(refused.values()), refused


def test_service_counter_draft_ends_with_the_clerks_role(w):
    """A clerk who entered a counter application and has since lost the counter role (moved to
    another department) can no longer write to it."""
    from yiwang.cases import services
    from yiwang.identity.models import StaffRole

    clerk, app = w.users["clerk"], w.objects["draft_counter"]
    assert not _refused(lambda: services.save_draft(app, user=clerk, data={}))
    StaffRole.objects.filter(user=clerk).update(department=w.objects["far_dept"])
    assert _refused(lambda: services.save_draft(app, user=clerk, data={}))
    assert not _refused(lambda: services.save_draft(app, user=w.users["other_person"], data={}))


def test_the_matrix_notices_a_missing_check(w, monkeypatch):
    """Take a per-object check away (every case visible to everyone logged in; every case in
    every worker's scope) and the rows must fail: the matrix tests the checks, not the table."""
    from yiwang.cases import selectors

    rows = {r.pattern: r for r in table.ROUTES}
    monkeypatch.setattr(selectors, "can_view_case", lambda user, case: bool(user and user.is_authenticated))
    leaks = play(rows["my/cases/<str:number>/receipt/"], w)
    assert any("other_dept_approver × case_lin: expected 404, got ok" in p for p in leaks), leaks
    from yiwang.workbench import selectors as workbench

    # The case page's scope check (in_case_scope, the rule of case_scope_q for one case read).
    monkeypatch.setattr(workbench, "in_case_scope", lambda user, roles, case: True)
    leaks = play(rows["workbench/cases/<id:case_id>/notices/<id:notice_id>/"], w)
    assert any("far_clerk × case_lin: expected 404, got ok" in p for p in leaks), leaks


def test_service_revoked_mandate_ends_the_agents_correction(w):
    """An agent submitted a company's case; the clerk asks for a correction; the company revokes
    the mandate. The former agent may no longer answer the correction for the company."""
    from yiwang.cases import services
    from yiwang.cases.actions import ApplicantCorrects, RequestCorrection
    from yiwang.identity import services as identity

    agent, company = w.users["agent"], w.objects["mandate_chen"].company
    case = services.submit(pw._filled(agent, w.objects["item"], acting_for=company), user=agent)
    RequestCorrection(case, w.users["clerk"], items=[{"field": "reason", "reason": "请写明经营项目"}]).run()
    identity.revoke_mandate(w.objects["mandate_chen"], by=company.legal_representative)
    case.refresh_from_db()
    assert _refused(lambda: ApplicantCorrects(case, agent, data={"reason": "开办餐饮店（堂食）"}).run())
