"""Issue 17 (1): the workbench pages show who is signed in and a 退出登录 button; signing out
from a workbench page returns to the portal home."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.cases.conftest import submitted_case
from yiwang.identity.models import Role, StaffRole

from .helpers import client_for

pytestmark = pytest.mark.django_db


def _area(html: str) -> str:
    m = re.search(r'<div class="account" id="account">(.*?)\n</div>', html, re.S)
    assert m, "the header has no account area"
    return m.group(1)


def test_workbench_pages_show_the_staff_member_and_logout(world):
    case = submitted_case(world)
    world.clerk.first_name, world.clerk.last_name = "明", "陈"
    world.clerk.save()
    clerk = client_for(world.clerk)
    name = "陈明"  # family name first, unspaced (identity.selectors.account_name)
    for url in (
        reverse("workbench:inbox"),
        reverse("workbench:case", args=[case.pk]),
        reverse("workbench:counter"),
        reverse("workbench:bundles"),
    ):
        r = clerk.get(url)
        assert r.status_code == 200, url
        area = _area(r.content.decode())
        assert f'id="account-name">{name}</span>' in area, url
        assert "退出登录" in area and 'action="/auth/logout/"' in area, url
        assert ">注册</a>" not in area, url


def test_workbench_shows_the_real_name_of_a_staff_member_with_a_person(world):
    from tests.identity.auth.conftest import make_person

    staff = make_person("clerk-person", "110105194912310037").user
    StaffRole.objects.create(user=staff, role=Role.COUNTER_CLERK, department=world.dept)
    html = client_for(staff).get(reverse("workbench:inbox")).content.decode()
    assert 'id="account-name">张三</span>' in _area(html)


def test_logout_from_the_workbench_goes_to_the_portal_home(world):
    clerk = client_for(world.clerk)
    r = clerk.post(reverse("auth:logout"), {"next": reverse("workbench:inbox")})
    assert r.status_code == 302 and r["Location"] == "/"
    assert clerk.get(reverse("workbench:inbox")).status_code == 302


def test_jinja2_and_django_workbench_pages_share_one_header(world):
    """The inbox (Jinja2, workbench/page.html) and the Django pages (workbench/base.html) take the
    <head> lines and the header from the same Jinja2 partials: the same markup on both."""
    clerk = client_for(world.clerk)

    def shared(url: str) -> tuple[str, str]:
        html = clerk.get(url).content.decode()
        head = re.search(r"<head>(.*?)<title>", html, re.S)
        header = re.search(r'(<a class="skip-link".*?</header>)', html, re.S)
        assert head and header, url
        # The account area's hidden "next" is the page's own address, its CSRF token masked anew.
        return head.group(1).strip(), re.sub(
            r'name="(next|csrfmiddlewaretoken)" value="[^"]*"', "", header.group(1)
        )

    assert shared(reverse("workbench:inbox")) == shared(reverse("workbench:counter"))
