"""The OpenAPI document lists every endpoint and describes every parameter and field."""

from __future__ import annotations

import json

import pytest

EXPECTED_PATHS = {
    "/api/health",
    "/api/regions/",
    "/api/regions/{code}",
    "/api/departments/",
    "/api/departments/{department_id}",
    "/api/items/",
    "/api/items/{code}",
    "/api/items/{code}/versions",
    "/api/standard-items/",
    "/api/standard-items/{basic_code}",
    "/api/themes/",
    "/api/life-events/",
    "/api/search",
}


def catalogue_schema_names() -> set[str]:
    from ninja import Schema

    from yiwang.api import errors, pagination
    from yiwang.api.schemas import catalog, common, regions

    modules = (catalog, common, regions, errors, pagination)
    return {
        name
        for module in modules
        for name, obj in vars(module).items()
        if isinstance(obj, type) and issubclass(obj, Schema) and obj.__module__ == module.__name__
    }


@pytest.fixture
def openapi(client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


@pytest.mark.django_db
def test_openapi_lists_every_catalogue_path_read_only(openapi):
    assert openapi["openapi"].startswith("3.")
    # Other apps add their own routers (e.g. /api/account/); the catalogue's are all here.
    assert set(openapi["paths"]) >= EXPECTED_PATHS
    for path in EXPECTED_PATHS:
        methods = openapi["paths"][path]
        assert set(methods) == {"get"}, path
        assert methods["get"]["summary"], path


@pytest.mark.django_db
def test_every_parameter_and_field_is_described(openapi):
    undocumented = []
    for path in EXPECTED_PATHS:
        methods = openapi["paths"][path]
        for param in methods["get"].get("parameters", []):
            if not (param.get("description") or param.get("schema", {}).get("description")):
                undocumented.append(f"{path} ?{param['name']}")
    for name, schema in openapi["components"]["schemas"].items():
        if name not in catalogue_schema_names():
            continue
        for prop, spec in schema.get("properties", {}).items():
            if not spec.get("description"):
                undocumented.append(f"{name}.{prop}")
    assert undocumented == []
    assert {"GuideElements", "ItemSummaryOut", "ValidationErrorOut"} <= catalogue_schema_names()


@pytest.mark.django_db
def test_error_answers_are_documented(openapi):
    items = openapi["paths"]["/api/items/"]["get"]["responses"]
    assert {"200", "422"} <= set(items)
    guide = openapi["paths"]["/api/items/{code}"]["get"]["responses"]
    assert {"200", "404"} <= set(guide)


@pytest.mark.django_db
def test_docs_page(client):
    response = client.get("/api/docs")
    assert response.status_code == 200 and b"openapi.json" in response.content
