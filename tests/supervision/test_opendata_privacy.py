"""No personal data ever leaves through open data: with cases of applicants who have ID numbers,
phones and names in the database, every page, every dataset in every format and every API
answer is free of those values and of anything shaped like an ID number or a mobile number."""

from __future__ import annotations

import io
import json
import re

import pytest
from openpyxl import load_workbook

from tests.cases.conftest import PASSWORD, _fast, submitted_case, world  # noqa: F401  (fixtures)
from yiwang.identity.synthetic import demo_people, id_check_digit, register_through_fake_sms
from yiwang.regions.models import ServiceHall
from yiwang.supervision.figures import fold
from yiwang.supervision.opendata import datasets as ds
from yiwang.supervision.opendata.formats import FORMATS

ID_SHAPE = re.compile(
    r"(?<![0-9A-Za-z])(\d{6})((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(\d{3})([\dXx])(?![0-9A-Za-z])"
)
MOBILE_SHAPE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")


def id_numbers_in(text: str) -> list[str]:
    """Runs of 18 that are valid resident ID numbers (birth date and GB 11643 check digit)."""
    found = []
    for m in ID_SHAPE.finditer(text):
        number = m.group(0).upper()
        if id_check_digit(number[:17]) == number[17]:
            found.append(number)
    return found


def mobiles_in(text: str) -> list[str]:
    return MOBILE_SHAPE.findall(text)


def test_the_detectors_find_what_they_look_for():
    person = demo_people()[0]
    text = f"申请人{person.name}，身份证{person.id_number}，电话{person.phone}。"
    assert id_numbers_in(text) == [person.id_number]
    assert mobiles_in(text) == [person.phone]
    # A credit code or an item code is not an ID number; a landline is not a mobile.
    assert id_numbers_in("91350100MA2XXXXX1X 01020000100350102000001") == []
    assert mobiles_in("0591-87654321 12345 01020000100350102000001") == []


def _text(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if response["Content-Type"].startswith(FORMATS["xlsx"].mimetype):
        sheet = load_workbook(io.BytesIO(body), read_only=True).active
        return "\n".join(
            " ".join("" if v is None else str(v) for v in row) for row in sheet.iter_rows(values_only=True)
        )
    return body.decode("utf-8-sig")


@pytest.mark.django_db
def test_no_personal_data_leaves(client, world):  # noqa: F811
    people = [world.person]
    for n, p in enumerate((demo_people()[0], demo_people()[2])):
        people.append(
            register_through_fake_sms(
                username=f"applicant{n}", password=PASSWORD, name=p.name, id_number=p.id_number, phone=p.phone
            )
        )
    submitted_case(world)
    fold()  # the case's figures into the daily figures dataset
    # A hall so every dataset has rows.
    ServiceHall.objects.create(
        region=world.regions["county"], name="鼓楼区政务服务中心", address="乌山路96号", phone="0591-87654321"
    )
    secrets = set()
    for p in demo_people()[:3]:
        secrets |= {p.name, p.id_number, p.phone}

    answers: dict[str, str] = {}
    for url in ("/opendata/", "/opendata/catalog.jsonld"):
        answers[url] = _text(client.get(url))
    for d in ds.all_datasets():
        for url in (f"/opendata/{d.name}/", f"/opendata/{d.name}.jsonld"):
            answers[url] = _text(client.get(url))
        for ext in FORMATS:
            url = f"/opendata/{d.name}.{ext}"
            answers[url] = _text(client.get(url))
        url = "/opendata/api/3/action/package_show"
        answers[f"{url}?id={d.name}"] = _text(
            client.post(url, json.dumps({"id": d.name}), content_type="application/json")
        )
    for action, params in (
        ("package_list", {}),
        ("package_search", {"rows": 1000}),
        ("organization_list", {"all_fields": True}),
    ):
        answers[action] = _text(client.get(f"/opendata/api/3/action/{action}", params))

    assert len(answers) == 2 + len(ds.all_datasets()) * 6 + 3
    # The datasets have rows: a check on empty files would prove nothing.
    assert world.item.code in answers["/opendata/service-items.csv"]
    assert "鼓楼区政务服务中心" in answers["/opendata/service-halls.json"]
    assert world.dept.name in answers["/opendata/daily-figures.csv"]
    for url, text in answers.items():
        assert not [s for s in secrets if s in text], url
        assert id_numbers_in(text) == [], url
        assert mobiles_in(text) == [], url
