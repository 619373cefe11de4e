"""The OpenAPI document is valid OpenAPI (checked by openapi-spec-validator, not by us), gives
every answer a schema, and says which operations need a bearer token: checked against what the
API actually answers without one."""

from __future__ import annotations

import json
import re

import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db

# A value for each path parameter: the operation runs (and may answer 404), it is not refused.
SAMPLE = {"code": "350000", "department_id": "1", "basic_code": "01020000100"}


@pytest.fixture
def openapi(client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return json.loads(response.content)


def operations(doc: dict):
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_the_document_is_valid_openapi(openapi):
    validate(openapi)  # raises with the first violation of the OpenAPI 3.1 specification


def test_every_answer_of_every_operation_has_a_schema(openapi):
    schemas = openapi["components"]["schemas"]
    for path, method, operation in operations(openapi):
        assert operation["responses"], (path, method)
        for status, answer in operation["responses"].items():
            schema = answer.get("content", {}).get("application/json", {}).get("schema")
            assert schema, f"{method} {path} {status} has no schema"
            refs = re.findall(r"#/components/schemas/([^\"']+)", json.dumps(schema))
            assert all(ref in schemas for ref in refs), (path, status, refs)
        # The throttle covers every operation; parameters can be wrong wherever there are any.
        assert "429" in operation["responses"], (path, method)
        if operation.get("parameters"):
            assert "422" in operation["responses"], (path, method)
    health = openapi["paths"]["/api/health"]["get"]["responses"]["200"]
    assert health["content"]["application/json"]["schema"]["$ref"].endswith("/HealthOut")


def test_security_schemes_name_the_bearer_token_and_the_provider(openapi, client):
    schemes = openapi["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    discovery = schemes["openIdConnect"]["openIdConnectUrl"]
    assert schemes["openIdConnect"]["type"] == "openIdConnect"
    assert discovery.endswith("/.well-known/openid-configuration")
    answer = client.get(discovery)
    assert answer.status_code == 200 and "token_endpoint" in answer.json()
    assert "security" not in openapi  # no API-wide requirement: public operations stay public


def test_declared_security_matches_what_the_api_does_without_a_token(openapi, client):
    secured, public = [], []
    for path, method, operation in operations(openapi):
        url = re.sub(r"\{(\w+)\}", lambda m: SAMPLE[m.group(1)], path)
        response = getattr(client, method)(url)
        declared = operation.get("security")
        if declared:
            assert {name for requirement in declared for name in requirement} <= {
                "bearerAuth",
                "openIdConnect",
            }
            assert response.status_code == 401, (path, response.status_code)
            assert response["WWW-Authenticate"].startswith("Bearer")
            secured.append(path)
        else:
            assert response.status_code not in (401, 403), (path, response.status_code)
            public.append(path)
        assert str(response.status_code) in operation["responses"], (path, response.status_code)
        assert "detail" in response.json() if response.status_code >= 400 else True
    assert {"/api/account/me", "/api/account/sessions"} <= set(secured)
    assert "/api/health" in public and "/api/items/" in public
    assert client.get("/api/health").json() == {"status": "ok"}
