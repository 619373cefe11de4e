"""The standard catalogue, themes and life events."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_standard_items_list_and_filters(client, data):
    body = client.get("/api/standard-items/").json()
    assert [s["basic_code"] for s in body["items"]] == [
        "01020000100",
        "01020000200",
        "02040000100",
        "11030000100",
    ]
    id_card = body["items"][3]
    assert id_card["name"] == "居民身份证换领" and id_card["aliases"] == ["换身份证", "身份证到期换证"]
    assert id_card["item_type_label"] == "公共服务" and id_card["department_kind_label"] == "公安"
    assert id_card["levels"] == [1, 2, 3, 4] and id_card["statutory_limit_days"] is None
    assert "materials" not in id_card

    def basic_codes(params):
        return [s["basic_code"] for s in client.get("/api/standard-items/", params).json()["items"]]

    assert basic_codes({"item_type": "licensing"}) == ["01020000100", "01020000200"]
    assert basic_codes({"department_kind": "mzj"}) == ["02040000100"]
    # "both" items serve either audience.
    assert basic_codes({"audience": "person"}) == ["02040000100", "11030000100"]
    assert basic_codes({"theme": "c01"}) == ["01020000100"]
    assert client.get("/api/standard-items/", {"item_type": "x"}).status_code == 422
    unknown_theme = client.get("/api/standard-items/", {"theme": "zz"})
    assert unknown_theme.status_code == 422 and unknown_theme.json()["errors"][0]["field"] == "theme"


def test_standard_item_detail_with_materials(client, data):
    body = client.get("/api/standard-items/01020000100").json()
    assert body["name"] == "食品经营许可" and body["legal_basis"].startswith("《中华人民共和国食品安全法》")
    assert [m["name"] for m in body["materials"]] == ["食品经营许可申请书", "营业执照"]
    assert body["materials"][1] == {
        "name": "营业执照",
        "form": "electronic",
        "copies": 1,
        "requirement": "required",
        "condition": "",
        "source": "e_certificate",
        "certificate_type": "营业执照",
        "notes": "",
    }
    assert body["themes"] == [{"code": "c01", "name": "准营准办"}]
    assert body["life_events"] == [{"code": "e01", "name": "开办餐馆"}]
    # City, county and township published it; nothing else.
    assert body["implementation_count"] == 3
    # The withdrawn and the draft implementations of the other standard item do not count.
    assert client.get("/api/standard-items/01020000200").json()["implementation_count"] == 0


def test_standard_item_404(client, data):
    response = client.get("/api/standard-items/99999999999")
    assert response.status_code == 404 and response.json() == {"detail": "基本目录事项 99999999999 不存在。"}
    english = client.get("/api/standard-items/99999999999", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json() == {"detail": "Standard item 99999999999 does not exist."}


def test_themes(client, data):
    body = client.get("/api/themes/").json()
    assert [(t["code"], t["audience"]) for t in body["items"]] == [("c01", "company"), ("p01", "person")]
    assert body["total"] == 2 and body["page_size"] == 20
    person = client.get("/api/themes/", {"audience": "person"}).json()
    assert [t["name"] for t in person["items"]] == ["婚姻家庭"]


def test_life_events(client, data):
    body = client.get("/api/life-events/").json()
    assert body["items"] == [
        {
            "code": "e01",
            "name": "开办餐馆",
            "audience": "company",
            "description": "一次办好",
            "standard_items": [
                {"basic_code": "01020000100", "name": "食品经营许可"},
                {"basic_code": "01020000200", "name": "食品生产许可"},
            ],
        }
    ]
    assert client.get("/api/life-events/", {"audience": "person"}).json()["total"] == 0


def test_unknown_api_path_is_404(client, data):
    assert client.get("/api/nothing-here/").status_code == 404
