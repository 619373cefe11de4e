"""schemathesis over the whole OpenAPI of yiwang, in process against the WSGI application.

Every operation gets a bounded number of generated requests (YIWANG_FUZZ_EXAMPLES, 30 by
default; the whole file runs in well under a minute). The checks: no server error (5xx), status
codes, content types, headers and bodies as the schema documents them, and the token-protected
/api/account/ operations refusing anonymous and forged calls with 401.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.api.conftest import _build, rolled_back

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

EXAMPLES = int(os.environ.get("YIWANG_FUZZ_EXAMPLES", "30"))


@pytest.fixture(scope="module")
def catalogue(django_db_setup, django_db_blocker):
    """Regions, departments and published items, so generated requests also hit real rows."""
    with django_db_blocker.unblock(), rolled_back():
        yield _build()


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """Calls go to the real WSGI handler, whose request signals close "old" database
    connections; on PostgreSQL that would close the test's own transaction (Django's test
    client disconnects the same handler for the same reason)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _no_api_throttle(monkeypatch):
    # The per-client API throttle would answer 429 to a fuzzer's burst; it has its own tests.
    monkeypatch.setenv("YIWANG_API_THROTTLE", "off")


def _load_schema():
    """The schema that /api/openapi.json serves, with requests sent to the WSGI application."""
    from yiwang.api.api import api
    from yiwang.wsgi import application

    loaded = schemathesis.openapi.from_dict(api.get_openapi_schema())
    loaded.app = application
    return loaded


schema = _load_schema()


def test_the_served_schema_is_the_fuzzed_one(client, catalogue) -> None:
    assert client.get("/api/openapi.json").json()["paths"].keys() == schema.raw_schema["paths"].keys()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests on every run: a failure here is reproducible
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, catalogue) -> None:
    response = case.call()
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} {case.query}: {response.status_code}"
    )
    # Every other check schemathesis has (status codes, content types, headers, bodies against
    # the schema, negative data refused...); positive-data acceptance is narrowed below.
    case.validate_response(response, excluded_checks=[positive_data_acceptance])
    if case.meta is not None and case.meta.generation.mode.is_positive and response.status_code == 422:
        # Well-formed filters that name a region, department or theme that does not exist are
        # refused with 422 "not_found" next to the field (docs/api.md) rather than an empty list.
        # A JSON Schema string admits NUL, which no database text holds: refused as
        # "nul_character" before any query (core.middleware.NulCharacterMiddleware).
        # Any other 422 for schema-valid input is a schema/validator mismatch.
        errors = response.json()["errors"]
        assert errors and all(e["type"] in ("not_found", "nul_character") for e in errors), response.text


@pytest.mark.parametrize("path", ["/api/account/me", "/api/account/sessions"])
@pytest.mark.parametrize(
    "authorization", [None, "Bearer not-a-token", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer " + "A" * 4000]
)
def test_account_endpoints_refuse_anonymous_and_forged_calls(client, catalogue, path, authorization) -> None:
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    response = client.get(path, **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "detail" in response.json()
