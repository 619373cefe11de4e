from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_regions_list_is_ordered_by_code_and_counts_children(client, data):
    body = client.get("/api/regions/").json()
    assert [r["code"] for r in body["items"]] == ["350000", "350100", "350102", "350102001", "350200"]
    assert body["total"] == 5 and body["page"] == 1 and body["pages"] == 1 and body["has_next"] is False
    province = body["items"][0]
    assert province == {
        "code": "350000",
        "name": "福建省",
        "level": 1,
        "level_label": "省级",
        "parent_code": None,
        "children_count": 2,
    }


def test_regions_filter_by_level_and_parent(client, data):
    cities = client.get("/api/regions/", {"level": 2}).json()
    assert [r["code"] for r in cities["items"]] == ["350100", "350200"]
    children = client.get("/api/regions/", {"parent": "350100"}).json()
    assert [r["code"] for r in children["items"]] == ["350102"]
    assert children["items"][0]["parent_code"] == "350100"
    none = client.get("/api/regions/", {"parent": "350100", "level": 4}).json()
    assert none["total"] == 0 and none["items"] == [] and none["pages"] == 0


def test_regions_unknown_parent_is_a_bad_parameter(client, data):
    response = client.get("/api/regions/", {"parent": "999999"})
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["field"] == "parent"
    assert "999999" in body["errors"][0]["message"] and "不存在" in body["detail"]


def test_region_detail_has_ancestors_and_counts(client, data):
    body = client.get("/api/regions/350102001").json()
    assert body["name"] == "鼓东街道" and body["level"] == 4 and body["level_label"] == "乡镇（街道）级"
    assert [a["code"] for a in body["ancestors"]] == ["350000", "350100", "350102"]
    assert body["ancestors"][0] == {"code": "350000", "name": "福建省", "level": 1}
    assert body["children_count"] == 0 and body["department_count"] == 1
    city = client.get("/api/regions/350100").json()
    assert city["children_count"] == 1 and city["department_count"] == 2
    assert [a["code"] for a in city["ancestors"]] == ["350000"]


def test_region_detail_404_in_chinese_and_english(client, data):
    response = client.get("/api/regions/123456")
    assert response.status_code == 404
    assert response.json() == {"detail": "区划代码 123456 不存在。"}
    english = client.get("/api/regions/123456", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 404
    assert english.json() == {"detail": "Region code 123456 does not exist."}


def test_departments_of_one_region_or_its_subtree(client, data):
    own = client.get("/api/departments/", {"region": "350100"}).json()
    assert [d["name"] for d in own["items"]] == ["福州市市场监督管理局", "福州市公安局"]
    below = client.get("/api/departments/", {"region": "350100", "subtree": "true"}).json()
    assert [(d["region"]["code"], d["code"]) for d in below["items"]] == [
        ("350100", "001"),
        ("350100", "002"),
        ("350102", "001"),
        ("350102001", "001"),
    ]
    everything = client.get("/api/departments/").json()
    assert everything["total"] == 6


def test_departments_filter_by_kind(client, data):
    body = client.get("/api/departments/", {"kind": "scjgj"}).json()
    assert body["total"] == 3
    assert {d["kind"] for d in body["items"]} == {"scjgj"}
    assert body["items"][0]["kind_label"] == "市场监督管理"
    subtree = client.get("/api/departments/", {"kind": "scjgj", "region": "350100", "subtree": True}).json()
    assert [d["region"]["code"] for d in subtree["items"]] == ["350100", "350102"]


def test_departments_bad_kind_and_region(client, data):
    response = client.get("/api/departments/", {"kind": "police"})
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "kind" and error["location"] == "query" and "scjgj" in error["message"]
    response = client.get("/api/departments/", {"region": "350999"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "region"


def test_department_detail(client, data):
    dept = data.departments.city_scj
    body = client.get(f"/api/departments/{dept.pk}").json()
    assert body["id"] == dept.pk and body["name"] == "福州市市场监督管理局"
    assert body["region"] == {"code": "350100", "name": "福州市", "level": 2}
    # The draft of the same department is not counted.
    assert body["published_item_count"] == 1
    assert body["phone"] == "0591-12345"


def test_department_404(client, data):
    response = client.get("/api/departments/999999")
    assert response.status_code == 404 and response.json() == {"detail": "部门 999999 不存在。"}
    response = client.get("/api/departments/abc")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "department_id"
