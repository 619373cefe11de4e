"""The load test's fixtures (bench/loadtest/fixtures.py) on a small province: the accounts log
in through the real login page and find the work the locustfile expects on the real pages."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from yiwang.catalog.generator import generate_province
from yiwang.identity.models import Person
from yiwang.identity.stepup import required_acr_for_item

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def _fixtures():
    spec = importlib.util.spec_from_file_location("lt_fixtures", ROOT / "bench" / "loadtest" / "fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _login(username: str, password: str) -> Client:
    client = Client(enforce_csrf_checks=True)
    page = client.get("/auth/login/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    r = client.post("/auth/login/", {"csrfmiddlewaretoken": token, "login": username, "password": password})
    assert r.status_code == 302, r.content.decode()[:500]
    return client


def test_accounts_and_backlog_work_through_the_pages(tmp_path):
    generate_province(items=300, cities=1, townships=(1, 2), work_dir=tmp_path, seed=3)
    fx = _fixtures()
    departments = fx._apply_items(2)
    assert len(departments) == 2
    assert all(required_acr_for_item(i.code) <= 2 for _d, items in departments for i in items)
    staff = fx.ensure_staff(departments, readers=2)
    assert [d["username"] for d in staff["deciders"]][:3] == ["lt_d0_clerk", "lt_d0_approver", "lt_d0_head"]
    applicants = fx.ensure_applicants(3)
    assert fx.ensure_applicants(3) == applicants  # idempotent: no second registration
    assert Person.objects.filter(user__username__in=applicants).count() == 3
    assert fx.ensure_backlog(departments, applicants, 6) >= 6

    # A clerk finds a case to accept in the inbox of the step and accepts it through the form.
    clerk = _login("lt_d0_clerk", fx.LOADTEST_PASSWORD)
    inbox = clerk.get("/workbench/?step=accept").content.decode()
    case_id = re.findall(r'href="/workbench/cases/(\d+)/"', inbox)[0]
    page = clerk.get(f"/workbench/cases/{case_id}/").content.decode()
    action = f"/workbench/cases/{case_id}/act/accept/"
    assert action in page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert clerk.post(action, {"csrfmiddlewaretoken": token}).status_code == 302

    # Readers see their department's cases; the city-wide head's lists answer.
    reader = _login(staff["readers"][0], fx.LOADTEST_PASSWORD)
    assert re.findall(r'href="/workbench/cases/(\d+)/"', reader.get("/workbench/").content.decode())
    head = _login(staff["supervisors"][0], fx.LOADTEST_PASSWORD)
    assert head.get("/workbench/?state=overdue").status_code == 200
    # An applicant follows the cases the backlog made for them.
    follower = _login(applicants[0], fx.LOADTEST_PASSWORD)
    assert follower.get("/my/cases/").status_code == 200
    assert get_user_model().objects.filter(username__startswith="lt_").count() >= 6 + 2 + 3


def test_plan_lists_what_the_locustfile_reads(tmp_path):
    import json

    generate_province(items=300, cities=1, townships=(1, 2), work_dir=tmp_path, seed=3)
    fx = _fixtures()
    departments = fx._apply_items(1)
    staff = fx.ensure_staff(departments, readers=1)
    plan = fx.write_plan(tmp_path / "plan.json", departments, staff, ["lt_a0"])
    assert json.loads((tmp_path / "plan.json").read_text(encoding="utf-8")) == plan
    assert len(plan["guides"]) == 300 and plan["queries"] and plan["apply_items"]
    for key in ("password", "deciders", "readers", "supervisors", "applicants", "lookups"):
        assert key in plan
