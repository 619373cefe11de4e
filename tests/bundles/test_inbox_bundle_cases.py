"""The workbench's bundle page lists the bundle cases its inbox shows (real database): the lead
department's clerk sees the umbrella waiting for unified acceptance, each member department's
approver its own branch cases, a department with no branch nothing; the page and the inbox agree
for every user because both read the inbox's rule (``workflow.selectors.inbox_scopes``)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.portal.bundle_world import BundleWorld, build_bundle_world
from tests.portal.test_bundle_pages import fill_and_submit, start
from tests.workbench.helpers import client_for
from tests.workbench.test_bundle_pages import accepted_bundle_case
from yiwang.bundles import selectors
from yiwang.bundles.models import BundleApplication, BundleBranch
from yiwang.cases.models import Case
from yiwang.workflow import selectors as wf_selectors


@pytest.fixture
def w(db, settings) -> BundleWorld:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_bundle_world()


def inbox_bundle_case_ids(user) -> set[int]:
    """The bundle cases among the inbox's tasks (the inbox page's own read)."""
    tasks = wf_selectors.inbox_slice(user, limit=500).tasks
    ids = {t.case_id for t in tasks}
    umbrellas = set(
        Case.objects.filter(
            pk__in=ids,
            application_id__in=BundleApplication.objects.values("application_id"),
        ).values_list("pk", flat=True)
    )
    branches = set(BundleBranch.objects.filter(branch_id__in=ids).values_list("branch_id", flat=True))
    return umbrellas | branches


def page_case_ids(user) -> set[int]:
    r = client_for(user).get(reverse("workbench:bundles"))
    assert r.status_code == 200
    return {int(i) for i in re.findall(r'<tr data-case="(\d+)"', r.content.decode())}


def test_bundle_page_lists_what_the_inbox_shows(w):
    accepted = accepted_bundle_case(w, signage="yes")  # three branches under review
    client = client_for(w.applicant)
    waiting = fill_and_submit(client, start(client, w, entity_type="company", signage="no"))
    sign = BundleBranch.objects.get(umbrella=accepted, department=w.housing).branch
    market_branches = set(
        BundleBranch.objects.filter(umbrella=accepted, department=w.market).values_list(
            "branch_id", flat=True
        )
    )
    expected = {
        w.clerk: {waiting.pk},  # unified acceptance of the waiting umbrella
        w.approver: market_branches,  # review of the market's two branches
        w.housing_approver: {sign.pk},
        w.police_approver: set(),
    }
    for user, cases in expected.items():
        assert inbox_bundle_case_ids(user) == cases, user.username
        assert page_case_ids(user) == cases, user.username
        assert {r.case.pk for r in selectors.inbox_bundle_cases(user)} == cases
    # A branch row names its umbrella; the umbrella row its holding-up branch (none yet).
    rows = {r.case.pk: r for r in selectors.inbox_bundle_cases(w.housing_approver)}
    assert rows[sign.pk].is_branch and rows[sign.pk].umbrella.pk == accepted.pk
    assert rows[sign.pk].branch is not None and rows[sign.pk].branch.department_name == w.housing.name
    page = client_for(w.housing_approver).get(reverse("workbench:bundles")).content.decode()
    assert accepted.number in page and "我要开餐馆" in page and 'id="held-up"' not in page
    # Once the approver has reviewed a branch, it leaves both lists (the head's inbox has it).
    from yiwang.cases import actions

    one = next(iter(market_branches))
    actions.Review(Case.objects.get(pk=one), w.approver, decision="pass").run()
    assert page_case_ids(w.approver) == inbox_bundle_case_ids(w.approver) == market_branches - {one}
    assert one in page_case_ids(w.head) and page_case_ids(w.head) == inbox_bundle_case_ids(w.head)
