"""Bad input never answers 500: every URL pattern of the resolver, walked with out-of-range
integers and garbage in each path argument and in the query parameters the pages and the API
read, by an anonymous visitor, an applicant and a staff member, with GET and POST, and with
malformed ``Authorization: Bearer`` headers.

The patterns come from ``get_resolver()`` (recursively), so a URL added tomorrow is walked
without touching this file. Out-of-range integers are the point: PostgreSQL refuses a value
outside ``bigint`` (or ``integer``) with ``DataError`` and SQLite's driver with
``OverflowError``; both must end as a 404 (a path), a dropped filter or a 400/422 (a query
parameter), never as a server error. Run on SQLite and on PostgreSQL (``DATABASE_URL``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django.db import transaction
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.urls.converters import IntConverter
from django.urls.resolvers import RoutePattern

from tests.security import permission_world as pw
from yiwang.identity.models import Role, StaffRole

pytestmark = pytest.mark.django_db

# One past the largest bigint, far past it, one past the largest integer (int4), negative, and
# numbers that str.isdigit() accepts but int() or the database do not.
OUT_OF_RANGE = [str(2**63), "99999999999999999999999", str(2**31), "-1"]
GARBAGE = ["abc", "²", "١٢٣", "x" * 300]
VALUES = OUT_OF_RANGE + GARBAGE
# The admin site's object pages all look their object up through ModelAdmin.get_object: fewer
# values there keep the walk of some 120 such patterns affordable.
ADMIN_VALUES = [str(2**63), "99999999999999999999999", "-1", "abc", "²"]

# What the pages, the admin and the API read from a query string or a form.
QUERY_NAMES = [
    "page", "page_size", "per_page", "department", "region", "item", "type", "kind", "level",
    "theme", "audience", "q", "certificate", "cursor", "order", "step", "state", "year", "number",
    "next", "timeout", "format", "material", "to", "id", "pk", "o", "p", "e", "_to_field",
    "acr_values", "max_age", "prompt", "client_id", "redirect_uri", "scope", "response_type",
    "code", "status", "decision", "go", "requirement", "delivery_method", "acting_for",
    "idempotency_key", "what", "print", "language", "app_label", "model_name", "field_name",
    "term", "token", "token_type_hint", "id_token_hint", "post_logout_redirect_uri", "grant_type",
    "refresh_token", "code_verifier", "client_assertion", "id_number", "region__id__exact",
    "department__id__exact", "user__id__exact",
]  # fmt: skip
# ... and a malformed JWT, for the provider's id_token_hint, token and assertion parameters.
JUNK_JWT = "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.x"
QUERY_KINDS = ["99999999999999999999999", "-1", "²", JUNK_JWT, "abc'\"<>" + "x" * 10_000]

BAD_BEARERS = [
    "Bearer a.b.c",
    "Bearer " + "A" * 5000,
    # Non-ASCII as a WSGI server hands it over (the header's UTF-8 bytes read as Latin-1).
    "Bearer 令牌".encode().decode("latin-1"),
    # An unsigned JWT (alg "none"): {"alg":"none","typ":"JWT"}.{"sub":"1","scope":"account"}.
    "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxIiwic2NvcGUiOiJhY2NvdW50In0.",
    "Bearer ",
    "Bearer \x00\x01",
]

ACTORS = ["anonymous", "applicant", "staff"]

MAX_ID = 2**63 - 1  # the largest bigint: every primary key of the platform


# --- the world, once per module ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bad-input-media")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, media_dir):
    settings.MEDIA_ROOT = media_dir
    settings.YIWANG_GUIDE_HEAD_TTL = 0
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]


@pytest.fixture(autouse=True)
def _no_rate_limits(settings, monkeypatch):
    # Thousands of requests from one address: the rate limits have their own tests.
    settings.YIWANG_RATE_LIMITS = {}
    monkeypatch.setenv("YIWANG_API_THROTTLE", "off")


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, media_dir):
    with pw.built_once(django_db_blocker, media_dir) as w:
        # One staff member who reaches every staff page: the back office (superuser, second
        # factor) and the workbench's counter and approval steps in the case's department.
        staff = w.users["superuser"]
        for role in (Role.COUNTER_CLERK, Role.DEPARTMENT_HEAD, Role.APPROVER):
            StaffRole.objects.create(user=staff, role=role, department=w.objects["dept"])
        w.users["staff"] = staff
        yield w


# --- the patterns ---------------------------------------------------------------------------------------


class Route(tuple):
    """The patterns from the root to one view; ``admin_site``: behind the admin site's own
    login and permission gate (``admin_view``), which turns away everyone but staff before the
    view runs, so only the staff member is walked through it."""

    admin_site: bool = False


def _walk(resolver: URLResolver, prefix: tuple, admin_site: bool) -> Iterator[Route]:
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p, (*prefix, p.pattern), admin_site or p.app_name == "admin")
        elif isinstance(p, URLPattern):
            route = Route((*prefix, p.pattern))
            route.admin_site = admin_site
            yield route


def url_patterns() -> list[Route]:
    return list(_walk(get_resolver(), (), False))


def _pattern_id(parts: tuple) -> str:
    return "".join(str(p) for p in parts) or "(root)"


def _actors(route: Route) -> list[str]:
    return ["staff"] if route.admin_site else ACTORS


_ROUTE_ARG = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?:[^()]|\([^()]*\))*\)")


def _args(parts: tuple) -> list[str]:
    names: list[str] = []
    for p in parts:
        if isinstance(p, RoutePattern):
            names += [m["name"] for m in _ROUTE_ARG.finditer(str(p))]
        else:
            names += [m["name"] for m in _REGEX_GROUP.finditer(p.regex.pattern)]
    return names


def _url(parts: tuple, values: dict[str, str]) -> str:
    """The URL of ``parts`` with each argument replaced by its value (percent-encoded by the
    test client when it is not ASCII)."""
    out = ""
    for p in parts:
        if isinstance(p, RoutePattern):
            out += _ROUTE_ARG.sub(lambda m: values[m["name"]], str(p))
        else:
            text = _REGEX_GROUP.sub(lambda m: values[m["name"]], p.regex.pattern)
            text = text.removeprefix("^").removesuffix("$").replace("/?", "/").replace("\\", "")
            out += text
    return "/" + out


def _sample(w, name: str) -> str:
    """A value of a path argument that names a real record, so the page's own code (and its
    query parameters) is reached; an unknown name gets "1"."""
    o = w.objects
    case = o["case_lin"]
    samples = {
        "case_id": case.pk,
        "branch_case_id": case.pk,
        "application_id": o["draft_lin"].pk,
        "material_id": case.materials.first().pk if case.materials.exists() else 1,
        "notice_id": case.notices.first().pk if case.notices.exists() else 1,
        "number": case.number,
        "code": o["item"].code,
        "basic_code": o["item"].standard.basic_code,
        "mandate_id": o["mandate_chen"].pk,
        "session_id": o["session_huang"].pk,
        "pk": o["consent_huang"].pk,
        "run_id": o["run_catalogue_dept"].pk,
        "department_id": o["dept"].pk,
        "name": "accept",
        "app_label": "catalog",
        "url": "nothing-here/",
    }
    return str(samples.get(name, 1))


# --- the walk -------------------------------------------------------------------------------------------


@pytest.fixture
def w(world):
    """The world; each test runs in its own savepoint (``django_db``), rolled back after it."""
    return world


class Failures(list):
    """Every failing request of one test, reported together (one bad parser shows on many URLs
    at once)."""

    def send(self, what: str, client: Client, method: str, url: str, data: Any = None, **extra: Any) -> None:
        # A savepoint per request: on PostgreSQL a failed statement would poison the rest.
        try:
            with transaction.atomic():
                response = getattr(client, method)(url, data, **extra)
                transaction.set_rollback(True)
        except Exception as exc:  # the test client re-raises the view's exception
            self.append(f"{what}: {type(exc).__name__}: {str(exc)[:160]}")
            return
        if response.status_code >= 500:
            self.append(f"{what}: {response.status_code}")

    def check(self) -> None:
        assert not self, f"{len(self)} requests failed:\n" + "\n".join(self[:40])


def _clients(w, route: Route) -> dict[str, Client]:
    return {actor: pw.client_for(w.users[actor]) for actor in _actors(route)}


@pytest.mark.parametrize("route", [r for r in url_patterns() if _args(r)], ids=_pattern_id)
def test_bad_path_arguments(w, route: Route) -> None:
    """Each argument of the pattern in turn out of range or garbage, the others naming real
    records: a 404 (or another refusal), never a server error."""
    names = _args(route)
    good = {n: _sample(w, n) for n in names}
    converters = {
        n: c for part in route if isinstance(part, RoutePattern) for n, c in part.converters.items()
    }
    failures = Failures()
    for name in names:
        for value in ADMIN_VALUES if route.admin_site else VALUES:
            url = _url(route, {**good, name: value})
            converter = converters.get(name)
            if converter is not None and not re.fullmatch(converter.regex, value):
                # The resolver's 404 before any view runs: once is enough.
                failures.send(f"GET {url[:120]}", Client(), "get", url)
                continue
            for actor, client in _clients(w, route).items():
                for method in ("get", "post"):
                    failures.send(f"{actor} {method.upper()} {url[:120]}", client, method, url)
    failures.check()


@pytest.mark.parametrize("route", url_patterns(), ids=_pattern_id)
def test_bad_query_parameters(w, route: Route) -> None:
    """The real page with every query parameter (and form field) the platform reads, all out
    of range or garbage at once: the bad ones are dropped or refused, never a server error."""
    url = _url(route, {n: _sample(w, n) for n in _args(route)})
    failures = Failures()
    for kind in QUERY_KINDS:
        # q gets the 10,000 characters; the other names a prefix (the URL must stay parseable).
        params = {name: kind if name == "q" else kind[:60] for name in QUERY_NAMES}
        for actor, client in _clients(w, route).items():
            what = f"{actor} {{}} {url} {kind[:30]!r}"
            failures.send(what.format("GET"), client, "get", url, params)
            failures.send(what.format("POST"), client, "post", f"{url}?{urlencode(params)}", params)
    failures.check()


@pytest.mark.parametrize("route", [r for r in url_patterns() if not r.admin_site], ids=_pattern_id)
def test_malformed_bearer_tokens(w, route: Route) -> None:
    """Any ``Authorization: Bearer`` header that is not a token of ours: the API's token
    endpoints answer 401, every page ignores it; never a server error."""
    url = _url(route, {n: _sample(w, n) for n in _args(route)})
    client = Client()
    failures = Failures()
    for header in BAD_BEARERS:
        failures.send(f"GET {url} {header[:30]!r}", client, "get", url, HTTP_AUTHORIZATION=header)
    failures.check()


def test_every_integer_path_argument_is_bounded() -> None:
    """Django's ``<int:...>`` matches any number of digits (and the database then refuses the
    value with an error): every integer argument of the platform is ``<id:...>``."""
    unbounded = [
        _pattern_id(route)
        for route in url_patterns()
        for part in route
        if isinstance(part, RoutePattern) and any(type(c) is IntConverter for c in part.converters.values())
    ]
    assert not unbounded, f"<int:...> instead of <id:...>: {unbounded}"
    assert resolve("/workbench/cases/9223372036854775807/").kwargs == {"case_id": 2**63 - 1}
    with pytest.raises(Resolver404):
        resolve("/workbench/cases/9223372036854775808/")


# --- the API, from its OpenAPI document ----------------------------------------------------------------


def _api_operations() -> list[tuple[str, str, list[dict]]]:
    from yiwang.api.api import api

    paths = api.get_openapi_schema()["paths"]
    return [
        (method, path, op.get("parameters", [])) for path, ops in paths.items() for method, op in ops.items()
    ]


# Operations of department systems (docs/exchange.md "Exchange API"): the client's token is
# checked before anything else, so without one every value answers 401 (still never a 500);
# their parameters' ranges are tested with a token in tests/exchange/test_exchange_api.py.
_TOKEN_FIRST = {"/api/exchange/changes"}


def _integer_bounds(param: dict) -> list[dict]:
    """The integer alternatives of a parameter's schema (``int | None`` is an anyOf)."""
    schema = param["schema"]
    return [s for s in [schema, *schema.get("anyOf", [])] if s.get("type") == "integer"]


def test_every_integer_api_parameter_is_bounded() -> None:
    """pydantic takes any number of digits as an int: each integer parameter declares a maximum
    the database can hold, so a bigger one is a 422 naming it (api/errors.py), not a query."""
    unbounded = [
        f"{method.upper()} {path} {param['name']}"
        for method, path, params in _api_operations()
        for param in params
        for schema in _integer_bounds(param)
        if not 0 < schema.get("maximum", MAX_ID + 1) <= MAX_ID
    ]
    assert not unbounded, f"integer parameters without a maximum: {unbounded}"


@pytest.mark.parametrize(
    "operation", _api_operations(), ids=lambda op: f"{op[0].upper()} {op[1]}" if isinstance(op, tuple) else ""
)
def test_api_operations_with_bad_values(w, operation) -> None:
    """Every parameter of every operation in turn out of range or garbage (the others real):
    422 or 404 in the API's JSON error format, never a server error; an integer beyond the
    database's range is a 422 naming the parameter, in Chinese."""
    method, path, params = operation
    good = {p["name"]: ("食品" if p["name"] == "q" else _sample(w, p["name"])) for p in params}
    required_query = {p["name"] for p in params if p["in"] == "query" and p.get("required")}
    client = Client()
    failures = Failures()
    for param in params:
        for value in [*VALUES, "x" * 10_000]:
            values = {**good, param["name"]: value}
            url = path
            for p in params:
                if p["in"] == "path":
                    url = url.replace("{" + p["name"] + "}", quote(values[p["name"]], safe=""))
            query = {
                p["name"]: values[p["name"]]
                for p in params
                if p["in"] == "query" and (p["name"] in required_query or p["name"] == param["name"])
            }
            what = f"{method.upper()} {url[:100]} {param['name']}={value[:30]!r}"
            failures.send(what, client, method, url, query)
            if _integer_bounds(param) and re.fullmatch(r"[0-9]+", value) and int(value) > MAX_ID:
                response = client.get(url, query)
                if path in _TOKEN_FIRST and response.status_code == 401:
                    continue  # refused before its parameters are read: no token, nothing else

                body = response.json()
                if response.status_code != 422 or body["errors"][0]["field"] != param["name"]:
                    failures.append(f"{what}: {response.status_code} {body}")
                elif "应小于或等于" not in body["detail"]:
                    failures.append(f"{what}: not the range message: {body['detail']}")
    failures.check()
