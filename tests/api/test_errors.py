"""Service errors raised under /api/ become JSON answers (no HTML error page)."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory

from yiwang.api.api import api
from yiwang.core.errors import DomainError, FieldError, NotPermitted, ValidationFailed


@pytest.fixture
def request_():
    return RequestFactory().get("/api/items/")


def test_rule_errors_are_422_with_one_entry_per_field(request_):
    exc = ValidationFailed([FieldError("q", "检索词过长。", "too_long"), FieldError("", "整体有误。")])
    response = api.on_exception(request_, exc)
    assert response.status_code == 422
    body = json.loads(response.content)
    assert body["detail"] == "检索词过长。；整体有误。"
    assert body["errors"][0] == {"field": "q", "location": "", "message": "检索词过长。", "type": "too_long"}


def test_refused_permission_is_403(request_):
    response = api.on_exception(request_, NotPermitted("不能这样做。"))
    assert response.status_code == 403 and json.loads(response.content) == {"detail": "不能这样做。"}


def test_single_domain_error_names_its_field(request_):
    response = api.on_exception(request_, DomainError("部门不对。", field="department"))
    assert response.status_code == 422
    assert json.loads(response.content)["errors"][0]["field"] == "department"
