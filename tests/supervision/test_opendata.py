"""Open data read by the real ``ckanapi`` client against a live server, the downloads parsed as
CSV, JSON and xlsx, the DCAT JSON-LD, and CKAN-shaped errors for bad input."""

from __future__ import annotations

import csv
import io
import json
import re

import ckanapi
import pytest
import requests
from openpyxl import load_workbook

from tests.supervision.opendata_world import build_world
from yiwang.supervision.opendata import datasets as ds


def content(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


NAMES = [
    "daily-figures",
    "departments",
    "regions",
    "service-halls",
    "service-item-materials",
    "service-items",
]


@pytest.fixture
def world(db):
    return build_world()


@pytest.mark.django_db(transaction=True)
def test_ckanapi_reads_the_portal(live_server):
    world = build_world()
    site = ckanapi.RemoteCKAN(live_server.url + "/opendata")

    assert site.action.package_list() == NAMES
    assert site.action.organization_list() == ["yiwang-platform"]
    orgs = site.action.organization_list(all_fields=True)
    assert orgs[0]["name"] == "yiwang-platform" and orgs[0]["package_count"] == len(NAMES)

    pkg = site.action.package_show(id="service-items")
    assert pkg["name"] == "service-items" and pkg["title"] == "政务服务事项目录"
    assert pkg["license_id"] == "cc-by" and "CC BY 4.0" in pkg["license_title"]
    assert pkg["organization"]["name"] == "yiwang-platform"
    assert {r["format"] for r in pkg["resources"]} == {"CSV", "JSON", "XLSX"}
    assert {"key": "frequency", "value": "UPDATE_CONT"} in pkg["extras"]
    assert pkg["metadata_modified"].startswith(world.passport.published_at.strftime("%Y-%m-%d"))
    # By id as well as by name, as CKAN accepts.
    assert site.action.package_show(id=pkg["id"])["name"] == "service-items"

    found = site.action.package_search(q="大厅")
    assert found["count"] == 1 and found["results"][0]["name"] == "service-halls"
    page = site.action.package_search(rows=2, start=1)
    assert page["count"] == len(NAMES) and [p["name"] for p in page["results"]] == NAMES[1:3]
    assert site.action.package_search(fq="res_format:XLSX organization:yiwang-platform")["count"] == len(
        NAMES
    )
    assert site.action.package_search(q="name:regions")["count"] == 1

    with pytest.raises(ckanapi.NotFound):
        site.action.package_show(id="no-such-dataset")
    with pytest.raises(ckanapi.ValidationError):
        site.action.package_search(rows="many")

    urls = {r["format"]: r["url"] for r in pkg["resources"]}
    assert all(u.startswith(live_server.url + "/opendata/") for u in urls.values())

    raw = requests.get(urls["CSV"], timeout=10).content
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    published = {world.food.code, world.social.code, world.passport.code}
    assert {r["code"] for r in rows} == published  # the draft is not there
    food = next(r for r in rows if r["code"] == world.food.code)
    assert food["name"] == "食品经营许可" and food["number"] == "2" and food["promised_limit_days"] == "5"
    assert food["region_name"] == "鼓楼区" and food["fee_required"] == "false"

    items = requests.get(urls["JSON"], timeout=10).json()
    assert {i["code"] for i in items} == published
    passport = next(i for i in items if i["code"] == world.passport.code)
    assert (
        passport["online_depth"] == 2 and passport["onsite_visits"] == 1 and passport["is_instant"] is False
    )
    assert list(passport) == ds.REGISTRY["service-items"].column_keys()

    xlsx = requests.get(urls["XLSX"], timeout=10)
    assert xlsx.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    header, *body = list(sheet.iter_rows(values_only=True))
    assert list(header) == ds.REGISTRY["service-items"].column_keys()
    assert sorted(r[0] for r in body) == sorted(published)

    halls = site.action.package_show(id="service-halls")
    hall_json = next(r["url"] for r in halls["resources"] if r["format"] == "JSON")
    (hall,) = requests.get(hall_json, timeout=10).json()
    assert hall["name"] == "鼓楼区政务服务中心" and hall["opening_hours"].startswith("工作日")
    assert hall["region_code"] == "350102" and hall["latitude"] == pytest.approx(26.08)

    materials = site.action.package_show(id="service-item-materials")
    mat_csv = next(r["url"] for r in materials["resources"] if r["format"] == "CSV")
    mats = list(csv.DictReader(io.StringIO(requests.get(mat_csv, timeout=10).content.decode("utf-8-sig"))))
    food_mats = [m["name"] for m in mats if m["item_code"] == world.food.code]
    assert food_mats == ["食品经营许可申请书", "营业执照"]


def test_actions_answer_get_and_post_in_ckan_shape(client, world):
    got = client.get("/opendata/api/3/action/package_show", {"id": "regions"}).json()
    posted = client.post(
        "/opendata/api/3/action/package_show",
        data=json.dumps({"id": "regions"}),
        content_type="application/json",
    ).json()
    assert got["success"] is True and got["help"] and got["result"] == posted["result"]
    regions = {r["code"] for r in json.loads(content(client.get("/opendata/regions.json")))}
    assert regions == {r.code for r in world.regions.values()}


@pytest.mark.parametrize(
    ("url", "body", "status", "kind"),
    [
        ("/opendata/api/3/action/package_show", {"id": "nope"}, 404, "Not Found Error"),
        ("/opendata/api/3/action/package_show", {}, 409, "Validation Error"),
        ("/opendata/api/3/action/package_show", {"id": ["a", "b"]}, 409, "Validation Error"),
        ("/opendata/api/3/action/package_search", {"rows": "x"}, 409, "Validation Error"),
        ("/opendata/api/3/action/package_search", {"rows": -1}, 409, "Validation Error"),
        ("/opendata/api/3/action/package_search", {"rows": 100000}, 409, "Validation Error"),
        ("/opendata/api/3/action/package_search", {"start": "1.5"}, 409, "Validation Error"),
        ("/opendata/api/3/action/package_search", {"start": True}, 409, "Validation Error"),
        ("/opendata/api/3/action/package_search", {"fq": "secret:1"}, 400, "Search Query Error"),
        ("/opendata/api/3/action/package_list", {"limit": "ten"}, 409, "Validation Error"),
        ("/opendata/api/3/action/package_create", {"name": "x"}, 400, "Bad Request"),
    ],
)
def test_bad_input_is_a_ckan_error_never_a_500(client, world, url, body, status, kind):
    for response in (
        client.post(url, data=json.dumps(body), content_type="application/json"),
        client.get(url, {k: json.dumps(v) if isinstance(v, list | bool) else v for k, v in body.items()}),
    ):
        if response.request["REQUEST_METHOD"] == "GET" and isinstance(
            next(iter(body.values()), ""), list | bool
        ):
            continue  # a list or a boolean cannot be said in a query string
        assert response.status_code == status, response.content
        data = response.json()
        assert data["success"] is False and data["error"]["__type"] == kind


def test_malformed_json_bodies(client, world):
    url = "/opendata/api/3/action/package_list"
    for body in ("{", "[1, 2]", '"x"', "\xff"):
        response = client.post(url, data=body, content_type="application/json")
        assert response.status_code == 400 and response.json()["error"]["__type"] == "Bad Request"
    assert client.put(url).status_code == 405


def test_unknown_dataset_and_format_are_404(client, world):
    assert client.get("/opendata/nope/").status_code == 404
    assert client.get("/opendata/nope.csv").status_code == 404
    assert client.get("/opendata/regions.pdf").status_code == 404
    assert client.get("/opendata/nope.jsonld").status_code == 404


def _page_jsonld(html: str) -> dict:
    match = re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', html, re.S)
    assert match, "no JSON-LD on the page"
    return json.loads(match.group(1))


def test_dcat_jsonld_on_the_page_and_at_its_url(client, world):
    response = client.get("/opendata/service-items/")
    assert response.status_code == 200
    html = response.content.decode()
    on_page = _page_jsonld(html)
    at_url = client.get("/opendata/service-items.jsonld")
    assert at_url["Content-Type"].startswith("application/ld+json")
    doc = json.loads(at_url.content)
    assert doc == on_page
    assert doc["@context"]["dcat"] == "http://www.w3.org/ns/dcat#"
    assert doc["@context"]["dct"] == "http://purl.org/dc/terms/"
    assert doc["@type"] == "dcat:Dataset"
    for key in (
        "dct:title",
        "dct:description",
        "dct:publisher",
        "dct:license",
        "dct:accrualPeriodicity",
        "dct:modified",
    ):
        assert doc[key], key
    assert doc["dct:title"] == "政务服务事项目录"
    assert doc["dct:license"]["@id"] == "https://creativecommons.org/licenses/by/4.0/"
    assert doc["dct:accrualPeriodicity"]["@id"].endswith("/UPDATE_CONT")
    assert doc["dct:modified"]["@value"].startswith(world.passport.published_at.strftime("%Y-%m-%d"))
    dists = doc["dcat:distribution"]
    assert {d["dcat:mediaType"] for d in dists} == {
        "text/csv",
        "application/json",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    for dist in dists:
        url = dist["dcat:downloadURL"]["@id"]
        assert url.startswith("http://testserver/opendata/service-items.")
        assert client.get(url).status_code == 200
    # Every column and download link is on the page.
    for key in ds.REGISTRY["service-items"].column_keys():
        assert f"<code>{key}</code>" in html
    for ext in ("csv", "json", "xlsx"):
        assert f'href="/opendata/service-items.{ext}"' in html

    catalog = client.get("/opendata/catalog.jsonld").json()
    assert catalog["@type"] == "dcat:Catalog" and catalog["dct:title"]
    assert sorted(d["dct:identifier"] for d in catalog["dcat:dataset"]) == sorted(
        d.id for d in ds.all_datasets()
    )
    assert _page_jsonld(client.get("/opendata/").content.decode())["@type"] == "dcat:Catalog"


def test_list_page_and_footer_link(client, world):
    html = client.get("/opendata/").content.decode()
    for d in ds.all_datasets():
        assert str(d.title) in html and f'href="/opendata/{d.name}/"' in html
    assert "CC BY 4.0" in html and "实时更新" in html and "不定期" in html
    assert 'href="/opendata/"' in client.get("/").content.decode()


def test_english_and_traditional(client, world):
    client.cookies["django_language"] = "en"
    assert "Open data" in client.get("/opendata/").content.decode()
    got = client.get(
        "/opendata/api/3/action/package_show", {"id": "service-items"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert got.json()["result"]["title"] == "Government service item catalogue"
    client.cookies["django_language"] = "zh-hant"
    assert "數據開放" in client.get("/opendata/").content.decode()


def test_formula_text_stays_text(client, world):
    from yiwang.regions.models import ServiceHall

    ServiceHall.objects.create(region=world.regions["city"], name='=HYPERLINK("x")', address="-1+1")
    rows = list(
        csv.reader(io.StringIO(content(client.get("/opendata/service-halls.csv")).decode("utf-8-sig")))
    )
    assert [rows[1][2], rows[1][3]] == ['\'=HYPERLINK("x")', "'-1+1"]
    sheet = load_workbook(io.BytesIO(content(client.get("/opendata/service-halls.xlsx")))).active
    cell = sheet.cell(row=2, column=3)
    assert cell.value == '=HYPERLINK("x")' and cell.data_type == "s"


def test_csv_and_json_stream_and_xlsx_is_a_file(client, world, django_assert_max_num_queries):
    # Rows are read with a chunked iterator: a few queries whatever the number of rows.
    for ext in ("csv", "json"):
        with django_assert_max_num_queries(3):
            response = client.get(f"/opendata/service-items.{ext}")
            assert response.streaming
            body = content(response)
        assert world.food.code.encode() in body
    response = client.get("/opendata/service-items.xlsx")
    assert response["Content-Disposition"] == 'attachment; filename="service-items.xlsx"'
