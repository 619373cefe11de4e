"""Bundles by region and after the questionnaire (Django test client, real database): /bundles/
shows the chosen city's bundles (and asks for a city when none is chosen), remembering the choice
in the session; the home page's life-event card opens the region's online bundle; the answers
leave out the materials of the members that do not apply, in the questionnaire's result, the
materials step, the missing-materials check and the branch cases."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.portal.bundle_world import BundleWorld, build_bundle_world
from tests.portal.test_bundle_pages import fill_and_submit, start
from tests.workbench.helpers import client_for
from yiwang.bundles import demo, page_selectors, readymade, services
from yiwang.bundles.models import Bundle, BundleBranch
from yiwang.cases import actions
from yiwang.cases.models import CaseMaterial
from yiwang.regions.models import DepartmentKind, Region, RegionLevel

COMPANY_ONLY = (
    "公司章程",
    "董事、监事和经理的任职文件",
    "企业名称自主申报告知书",
    "《有限责任公司设立登记申请书》（加盖单位公章）",
)
SHAREHOLDERS = "股东（发起人）主体资格证明或自然人身份证件"  # the company's name of the identity proof


@pytest.fixture
def w(db, settings) -> BundleWorld:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    return build_bundle_world()


def xiamen_restaurant(w: BundleWorld) -> Bundle:
    """The same ready-made bundle in 厦门市思明区: a second city with a bundle of the same name."""
    siming = Region.objects.create(
        code="350203", name="思明区", level=RegionLevel.COUNTY, parent=w.regions["other_city"]
    )
    factories.department(siming, name="思明区市场监督管理局")
    factories.department(siming, kind=DepartmentKind.HOUSING, code="010", name="思明区住房和城乡建设局")
    return demo.create_bundle(readymade.RESTAURANT, siming)


def listed_codes(html: str) -> list[str]:
    return [part.split("/")[0] for part in html.split('href="/bundles/')[1:] if not part.startswith("?")]


def test_bundle_list_asks_for_a_city_then_shows_only_its_bundles(w):
    xiamen = xiamen_restaurant(w)
    reader = Client()
    url = reverse("portal:bundle_list")
    first = reader.get(url).content.decode()
    # No region yet: a choice of cities, not every city's bundle of the same name.
    assert "请选择您所在的城市" in first and 'id="choose-city"' in first
    assert w.bundle.code not in first and xiamen.code not in first
    assert f'href="?region={w.regions["city"].code}"' in first and "厦门市" in first
    # Choosing 福州市: redirected, remembered in the session, its bundle only.
    r = reader.get(url, {"region": w.regions["city"].code})
    assert r.status_code == 302 and r["Location"] == url
    page = reader.get(url).content.decode()
    assert "当前地区：福州市" in page
    assert w.bundle.code in listed_codes(page) and xiamen.code not in page
    assert 'id="kind-life_event"' in page and "鼓楼区市场监督管理局" in page
    # Changed to 厦门市: the other one.
    reader.get(url, {"region": w.regions["other_city"].code})
    page = reader.get(url).content.decode()
    assert xiamen.code in listed_codes(page) and w.bundle.code not in page
    # The district itself also sees its city's and province's bundles (none here) and its own.
    reader.get(url, {"region": w.regions["county"].code})
    assert listed_codes(reader.get(url).content.decode()) == [w.bundle.code]
    # An unknown code: said next to the chooser, the choice kept; an empty one forgets it.
    bad = reader.get(url, {"region": "999999"})
    assert bad.status_code == 400 and "没有这个地区" in bad.content.decode()
    reader.get(url, {"region": ""})
    assert "请选择您所在的城市" in reader.get(url).content.decode()
    # The home page's region (cookie) is used until the reader chooses here.
    other = Client()
    other.cookies["yiwang_region"] = w.regions["other_city"].code
    assert xiamen.code in listed_codes(other.get(url).content.decode())


def test_home_life_event_card_opens_the_regions_online_bundle(w):
    xiamen = xiamen_restaurant(w)
    assert w.bundle.life_event is not None and w.bundle.life_event.code == "le02"
    home = reverse("portal:home")
    anonymous = Client().get(home).content.decode()
    # No region: the life event's items, as before.
    assert f'href="{reverse("portal:life_event", args=["le02"])}"' in anonymous
    assert "在线一次办" not in anonymous
    fuzhou = Client()
    fuzhou.get(reverse("portal:bundle_list"), {"region": w.regions["city"].code})
    page = fuzhou.get(home).content.decode()
    assert f'href="{reverse("portal:bundle_guide", args=[w.bundle.code])}"' in page
    assert xiamen.code not in page and "在线一次办" in page
    # Life events without a bundle keep their link to the items.
    assert f'href="{reverse("portal:life_event", args=["le01"])}"' in page
    xm = Client()
    xm.cookies["yiwang_region"] = w.regions["other_city"].code
    page = xm.get(home).content.decode()
    assert f'href="{reverse("portal:bundle_guide", args=[xiamen.code])}"' in page


def test_answers_remove_the_materials_of_members_that_do_not_apply(w):
    bundle = w.bundle
    start_url = reverse("portal:bundle_start", args=[bundle.code])
    # Before the answers, the guide lists every material of every member.
    guide = Client().get(reverse("portal:bundle_guide", args=[bundle.code])).content.decode()
    assert all(name in guide for name in COMPANY_ONLY)
    individual = Client().get(start_url, {"entity_type": "individual", "signage": "no"}).content.decode()
    needed = individual.split('id="needed-materials"')[1].split("</ol>")[0]
    for name in (*COMPANY_ONLY, SHAREHOLDERS, "招牌设置效果图"):
        assert name not in needed, name
    # The identity proof the food licence asks for keeps its own name (it was merged with the
    # company's shareholder proof).
    assert "法定代表人（负责人）身份证明" in needed and "《个体工商户设立登记申请表》" in needed
    company = Client().get(start_url, {"entity_type": "company", "signage": "yes"}).content.decode()
    needed = company.split('id="needed-materials"')[1].split("</ol>")[0]
    assert (
        "公司章程" in needed and "招牌设置效果图" in needed and "《个体工商户设立登记申请表》" not in needed
    )

    # The application's materials step: the same list (one rule).
    client = client_for(w.applicant)
    link = start(client, w, entity_type="individual", signage="no")
    rows = page_selectors.draft_materials(link.application)
    guide_rows = page_selectors.bundle_guide(bundle, {"entity_type": "individual", "signage": "no"}).materials
    assert [r.name for r in rows] == [r.name for r in guide_rows]
    page = client.get(reverse("portal:bundle_materials", args=[link.application_id])).content.decode()
    for name in (*COMPANY_ONLY, SHAREHOLDERS):
        assert name not in page, name
    assert "法定代表人（负责人）身份证明" in page
    missing = services.missing_materials(link.application)
    assert "法定代表人（负责人）身份证明" in missing and not set(COMPANY_ONLY) & set(missing)
    # Submitted and accepted: the food licence's branch gets the proof under its own name.
    case = fill_and_submit(client, link)
    actions.Accept(case, w.clerk).run()
    food = next(b.branch for b in BundleBranch.objects.filter(umbrella=case) if "食品" in b.branch.item_name)
    names = set(
        CaseMaterial.objects.filter(application_id=food.application_id).values_list("requirement", flat=True)
    )
    assert "法定代表人（负责人）身份证明" in names


def test_a_shared_material_goes_by_the_name_of_the_member_that_always_applies(w):
    """Rebuilt: the identity proof the company registration (conditional) and the food licence
    (always) share is named as the food licence names it; each department keeps its own name."""
    proof = w.bundle.materials.get(name="法定代表人（负责人）身份证明")
    assert SHAREHOLDERS in proof.mapping.values() and len(proof.mapping) == 2
    assert not w.bundle.materials.filter(name=SHAREHOLDERS).exists()
    only = services.needed_materials(list(w.bundle.materials.all()), {str(proof.required_for[0])})
    assert proof in only
