from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def codes(body: dict) -> list[str]:
    return [i["code"] for i in body["items"]]


def test_items_lists_current_published_versions_only_ordered_by_code(client, data):
    body = client.get("/api/items/").json()
    it = data.items
    expected = sorted(
        i.code for i in (it.food_city, it.food_county, it.food_town, it.id_city, it.marriage_xm)
    )
    assert codes(body) == expected
    assert body["total"] == 5
    # Neither the unpublished draft nor the withdrawn item is public.
    assert it.draft.code not in codes(body) and it.withdrawn.code not in codes(body)


def test_item_summary_fields(client, data):
    body = client.get("/api/items/", {"department": data.departments.city_scj.pk}).json()
    [item] = body["items"]
    assert item["code"] == data.items.food_city.code == "01020000100350100000001"
    assert item["name"] == "食品经营许可"
    assert item["item_type"] == "licensing" and item["item_type_label"] == "行政许可"
    assert item["audience"] == "company" and item["audience_label"] == "法人"
    assert item["region"] == {"code": "350100", "name": "福州市", "level": 2}
    assert item["department"] == {
        "id": data.departments.city_scj.pk,
        "name": "福州市市场监督管理局",
        "code": "001",
        "kind": "scjgj",
    }
    assert item["online_depth"] == 4 and item["online_depth_label"] == "全程网办（四级）"
    # The second version changed the promised limit from 10 to 8.
    assert item["promised_limit_days"] == 8 and item["version"] == 2
    assert item["published_at"]


def test_instant_item_has_no_promised_limit(client, data):
    body = client.get("/api/items/", {"department": data.departments.xm_mzj.pk}).json()
    [item] = body["items"]
    assert item["promised_limit_days"] is None and item["audience"] == "both"


def test_region_filter_own_region_or_subtree(client, data):
    it = data.items
    own = client.get("/api/items/", {"region": "350100"}).json()
    assert codes(own) == sorted([it.food_city.code, it.id_city.code])
    below = client.get("/api/items/", {"region": "350100", "subtree": "true"}).json()
    assert codes(below) == sorted(
        [it.food_city.code, it.id_city.code, it.food_county.code, it.food_town.code]
    )
    province = client.get("/api/items/", {"region": "350000", "subtree": "true"}).json()
    assert province["total"] == 5
    county = client.get("/api/items/", {"region": "350102", "subtree": "true"}).json()
    assert codes(county) == sorted([it.food_county.code, it.food_town.code])
    assert client.get("/api/items/", {"region": "350000"}).json()["total"] == 0


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"department_kind": "scjgj"}, ["food_city", "food_county"]),
        ({"department_kind": "xzzf"}, ["food_town"]),
        ({"audience": "person"}, ["id_city", "marriage_xm"]),
        ({"audience": "company"}, ["food_city", "food_county", "food_town", "marriage_xm"]),
        ({"item_type": "public_service"}, ["id_city"]),
        ({"item_type": "confirmation"}, ["marriage_xm"]),
        ({"item_type": "penalty"}, []),
        ({"level": 2}, ["food_city", "id_city", "marriage_xm"]),
        ({"level": 4}, ["food_town"]),
        ({"theme": "c01"}, ["food_city", "food_county", "food_town"]),
        ({"theme": "p01"}, ["marriage_xm"]),
        ({"region": "350100", "subtree": True, "department_kind": "scjgj", "level": 3}, ["food_county"]),
        ({"audience": "company", "level": 2}, ["food_city", "marriage_xm"]),
    ],
)
def test_item_filters(client, data, params, expected):
    body = client.get("/api/items/", params).json()
    assert codes(body) == sorted(getattr(data.items, k).code for k in expected)
    assert body["total"] == len(expected)


def test_pagination_edges(client, data):
    all_codes = codes(client.get("/api/items/").json())
    first = client.get("/api/items/", {"page_size": 2}).json()
    assert codes(first) == all_codes[:2]
    assert (first["total"], first["page"], first["page_size"], first["pages"], first["has_next"]) == (
        5,
        1,
        2,
        3,
        True,
    )
    last = client.get("/api/items/", {"page_size": 2, "page": 3}).json()
    assert codes(last) == all_codes[4:] and last["has_next"] is False
    beyond = client.get("/api/items/", {"page_size": 2, "page": 4}).json()
    assert beyond["items"] == [] and beyond["total"] == 5 and beyond["has_next"] is False
    exact = client.get("/api/items/", {"page_size": 5}).json()
    assert exact["pages"] == 1 and exact["has_next"] is False
    assert client.get("/api/items/", {"page_size": 100}).status_code == 200


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"page": 0}, "page", "应大于或等于 1。"),
        ({"page": "x"}, "page", "应为整数。"),
        ({"page_size": 1000}, "page_size", "应小于或等于 100。"),
        ({"page_size": 0}, "page_size", "应大于或等于 1。"),
        ({"audience": "alien"}, "audience", "取值无效，可选值：'person' or 'company'。"),
        ({"item_type": "tax"}, "item_type", None),
        ({"level": 5}, "level", "应小于或等于 4。"),
        ({"region": "35"}, "region", "格式不正确。"),
        ({"region": "999999"}, "region", "区划代码 999999 不存在。"),
        ({"subtree": "maybe"}, "subtree", "应为 true 或 false。"),
        ({"department": -1}, "department", "应大于或等于 1。"),
        ({"department": 999999}, "department", "部门 999999 不存在。"),
        ({"theme": "nope"}, "theme", "主题代码 nope 不存在。"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(client, data, params, field, message):
    response = client.get("/api/items/", params)
    assert response.status_code == 422
    body = response.json()
    [error] = body["errors"]
    assert error["field"] == field and error["location"] == "query"
    if message:
        assert error["message"] == message
    assert body["detail"].startswith("请求参数有误：") and field in body["detail"]


def test_422_in_english(client, data):
    response = client.get("/api/items/", {"page": 0, "page_size": 1000}, HTTP_ACCEPT_LANGUAGE="en")
    body = response.json()
    assert response.status_code == 422
    assert body["detail"] == (
        "Invalid request parameters: page: Must be greater than or equal to 1.; "
        "page_size: Must be less than or equal to 100."
    )
    assert {e["field"]: e["message"] for e in body["errors"]} == {
        "page": "Must be greater than or equal to 1.",
        "page_size": "Must be less than or equal to 100.",
    }


def test_guide_has_every_element(client, data):
    from yiwang.api.schemas.catalog import GuideElements

    item = data.items.food_city
    response = client.get(f"/api/items/{item.code}")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == item.code and body["version"] == 2 and body["published_at"]
    elements = body["elements"]
    item.refresh_from_db()
    published = item.current_version.elements
    # Every element of the published dict is in the answer, with the published value.
    assert set(elements) == set(GuideElements.model_fields) == set(published)
    assert elements == published
    assert elements["promised_limit_days"] == 8 and elements["statutory_limit_days"] == 20
    assert [m["name"] for m in elements["materials"]] == ["食品经营许可申请书", "营业执照"]
    assert elements["materials"][1]["source"] == "e_certificate"
    assert elements["standard"] == {"basic_code": "01020000100", "name": "食品经营许可"}
    assert elements["themes"] == [{"code": "c01", "name": "准营准办"}]
    assert body["labels"] == {
        "item_type": "行政许可",
        "audience": "法人",
        "online_depth": "全程网办（四级）",
        "channels": ["网上办事大厅", "移动端", "窗口办理"],
        "min_assurance_level": "已注册",
    }


@pytest.mark.parametrize("which", ["draft", "withdrawn", None])
def test_guide_404_for_unpublished_withdrawn_or_unknown(client, data, which):
    code = getattr(data.items, which).code if which else "0" * 23
    response = client.get(f"/api/items/{code}")
    assert response.status_code == 404
    assert response.json() == {"detail": f"事项 {code} 不存在或未发布。"}
    assert client.get(f"/api/items/{code}/versions").status_code == 404


def test_guide_404_in_traditional_chinese(client, data):
    response = client.get(f"/api/items/{'1' * 23}", HTTP_ACCEPT_LANGUAGE="zh-Hant")
    assert response.json() == {"detail": f"事項 {'1' * 23} 不存在或未發布。"}


def test_versions_newest_first_with_changes(client, data):
    item = data.items.food_city
    body = client.get(f"/api/items/{item.code}/versions").json()
    assert body["code"] == item.code
    assert [(v["version"], v["is_current"]) for v in body["versions"]] == [(2, True), (1, False)]
    latest, first = body["versions"]
    assert {
        "field": "promised_limit_days",
        "label": "承诺办结时限",
        "old": "10个工作日",
        "new": "8个工作日",
    } in latest["changes"]
    assert first["changes"][0]["field"] == "*"
    assert all(v["name"] == "食品经营许可" for v in body["versions"])
    assert "published_by" not in latest


def test_unknown_theme_in_english(client, data):
    response = client.get("/api/items/", {"theme": "nope"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "Theme code nope does not exist."


def test_province_subtree_with_a_second_province_keeps_the_filter(client, data):
    from tests import factories as f
    from yiwang.catalog import services
    from yiwang.regions.models import Region, RegionLevel

    jiangxi = Region.objects.create(code="360000", name="江西省", level=RegionLevel.PROVINCE)
    nanchang = Region.objects.create(code="360100", name="南昌市", level=RegionLevel.CITY, parent=jiangxi)
    services.publish(f.implementation(data.standards.food, f.department(nanchang)), actor_label="test")
    assert client.get("/api/items/").json()["total"] == 6
    fujian = client.get("/api/items/", {"region": "350000", "subtree": "true"}).json()
    assert fujian["total"] == 5 and all(not c.startswith("0102000010036") for c in codes(fujian))
    assert client.get("/api/items/", {"region": "360000", "subtree": "true"}).json()["total"] == 1
