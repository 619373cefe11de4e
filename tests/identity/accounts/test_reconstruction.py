"""No set of clear columns in any table determines a person's ID number or phone number.

The attacker holds a dump of every table (not the keys: ciphertexts and keyed hashes are
opaque to them). For each person, they gather every row that can be tied to that person (a
foreign key to the person or their login, their name, a hash or a masked value of theirs) and
learn from it what the columns give away about the number:

- a masked number (``3****************0``, ``139****0001``) fixes the characters it shows;
- a region code (county ``350102``, prefecture ``3501``/``350100``, province ``35``/``350000``)
  fixes the first digits; a date equal to the birth date fixes digits 7-14; the birth year
  alone digits 7-10; a sex (男/女) the parity of the sequence digit.

The number is then counted among all numbers the attacker cannot rule out: counties of the
platform's province (the attacker knows where the platform is), birth dates from 1900 to
today, sequence numbers, and the check character, counted exactly mod 11. A phone leaves 10
choices per unknown digit (7 for the second). Every count must stay at least 1,000, and no
table may hold a full number in clear anywhere, in any column or JSON value.

The data is the security permission world (people registered through the real pages'
services, companies, mandates, cases with forms, notices, outbox, sessions, audit), plus a
small synthetic registry whose people mostly have no account.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model

from yiwang.core.crypto import blind_index
from yiwang.identity.models import Person
from yiwang.identity.registries import id_number_hash
from yiwang.identity.validators import ID_CHECK_CHARS, ID_WEIGHTS
from yiwang.regions.services import _read_gbt2260

pytestmark = pytest.mark.django_db

MIN_CANDIDATES = 1000
MASKED_ID = re.compile(r"(?<![0-9A-Za-z*])[0-9Xx*]{18}(?![0-9A-Za-z*])")
MASKED_PHONE = re.compile(r"(?<![0-9*])1[0-9*]{10}(?![0-9*])")
DATE_TEXT = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")


# --- the dump ---------------------------------------------------------------------------------


def _flatten(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _flatten(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _flatten(v)
    elif value is not None:
        yield value


def dump() -> list[tuple[str, dict[str, Any], list[Any], str]]:
    """[(table, {foreign key column: value}, [every clear value of the row], the values joined)]
    for every row of every table."""
    user_model = get_user_model()
    rows = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = model._meta.concrete_fields
        for values in model._default_manager.all().values_list(*[f.attname for f in fields]):
            fks, clear = {}, []
            for f, v in zip(fields, values, strict=True):
                if f.is_relation and f.related_model in (user_model, Person):
                    fks[f.related_model.__name__] = v
                clear.extend(_flatten(v))
            blob = "\x00".join(str(v) for v in clear)
            rows.append((model._meta.db_table, fks, clear, blob))
    return rows


# --- what a row tells about one number ----------------------------------------------------------


def _is_linked(fks: dict, blob: str, person: dict) -> bool:
    if fks.get("Person") == person["person_id"] and person["person_id"] is not None:
        return True
    if fks.get(get_user_model().__name__) == person["user_id"] and person["user_id"] is not None:
        return True
    return any(m in blob for m in person["marks"])


def _date_of(v: Any) -> dt.date | None:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return None


def known_id_positions(rows, person: dict) -> tuple[set[int], bool | None]:
    """Positions of the ID number the linked rows give away, and the sex if one says it."""
    n = person["id_number"]
    birth = dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    known: set[int] = set()
    sex = None
    for _table, fks, clear, blob in rows:
        if not _is_linked(fks, blob, person):
            continue
        for v in clear:
            if _date_of(v) == birth:
                known |= set(range(6, 14))
            if isinstance(v, int) and not isinstance(v, bool) and v == birth.year:
                known |= set(range(6, 10))
            if not isinstance(v, str):
                continue
            s = v.strip()
            for m in MASKED_ID.finditer(s):
                mask = m.group(0).upper()
                if "*" in mask and all(c == "*" or c == n[i] for i, c in enumerate(mask)):
                    known |= {i for i, c in enumerate(mask) if c != "*"}
            for m in DATE_TEXT.finditer(s):
                if (m.group(1), m.group(2), m.group(3)) == (n[6:10], n[10:12], n[12:14]):
                    known |= set(range(6, 14))
            if s == n[6:10]:
                known |= set(range(6, 10))
            for k, code in ((6, n[:6]), (4, n[:4] + "00"), (4, n[:4]), (2, n[:2] + "0000"), (2, n[:2])):
                if s == code:
                    known |= set(range(k))
            if s in ("男", "女"):
                sex = s == "男"
    return known, sex


def known_phone_positions(rows, person: dict) -> set[int]:
    m_ = person["phone"]
    known: set[int] = set()
    for _table, fks, clear, blob in rows:
        if not _is_linked(fks, blob, person):
            continue
        for v in clear:
            if isinstance(v, str):
                for m in MASKED_PHONE.finditer(v):
                    mask = m.group(0)
                    if "*" in mask and all(c == "*" or c == m_[i] for i, c in enumerate(mask)):
                        known |= {i for i, c in enumerate(mask) if c != "*"}
    return known


def _residues(strings: list[str], offset: int) -> Counter:
    return Counter(sum(int(c) * ID_WEIGHTS[offset + i] for i, c in enumerate(s)) % 11 for s in strings)


@functools.cache
def _strings(kind: str, today: dt.date) -> tuple[str, ...]:
    if kind == "region":
        province = settings.YIWANG_PROVINCE_CODE[:2]
        return tuple(c for c, _name in _read_gbt2260() if c.startswith(province) and c[2:] != "0000")
    if kind == "date":
        first = dt.date(1900, 1, 1).toordinal()
        return tuple(f"{dt.date.fromordinal(o):%Y%m%d}" for o in range(first, today.toordinal() + 1))
    return tuple(f"{i:03d}" for i in range(1000))


@functools.cache
def _residue_counts(kind: str, offset: int, fixed: tuple, parity: int | None, today: dt.date) -> Counter:
    """Weighted sums mod 11 of the region / date / sequence strings that agree with ``fixed``."""
    strings = [s for s in _strings(kind, today) if all(s[i] == c for i, c in fixed)]
    if parity is not None:
        strings = [s for s in strings if int(s[2]) % 2 == parity]
    return Counter(sum(int(c) * ID_WEIGHTS[offset + i] for i, c in enumerate(s)) % 11 for s in strings)


def id_candidates(n: str, known: set[int], sex: bool | None, today: dt.date) -> int:
    """How many valid ID numbers agree with what is known of ``n``: exact, the check character
    counted through the weighted sums mod 11 of each part."""

    def part(kind: str, offset: int, length: int, parity: int | None = None) -> Counter:
        fixed = tuple((i, n[offset + i]) for i in range(length) if offset + i in known)
        return _residue_counts(kind, offset, fixed, parity, today)

    r, d = part("region", 0, 6), part("date", 6, 8)
    q = part("seq", 14, 3, None if sex is None else int(sex))
    total = 0
    for a, ca in r.items():
        for b, cb in d.items():
            for c, cc in q.items():
                if 17 not in known or ID_CHECK_CHARS[(a + b + c) % 11] == n[17]:
                    total += ca * cb * cc
    return total


def phone_candidates(known: set[int]) -> int:
    total = 1
    for i in range(11):
        if i not in known:
            total *= 7 if i == 1 else 10
    return total


# --- the test -----------------------------------------------------------------------------------


@pytest.fixture
def world(settings):
    from tests.security.permission_world import build
    from yiwang.identity.synthetic import generate_registries

    # Fast people's passwords (accounts conftest), and the hasher of OAuth client secrets.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "yiwang.identity.oidc.hashers.ClientSecretHasher",
    ]
    build()
    generate_registries(people=100, companies=20, seed=15)


def people_known_to_the_test() -> list[dict]:
    import random

    from yiwang.identity.synthetic import (
        counties,
        demo_people,
        demo_registrant,
        generate_people,
    )

    ps = [*demo_people(), demo_registrant()]
    ps += list(
        generate_people(
            100,
            rng=random.Random(15),
            region_codes=[c.code for c in counties()],
            today=dt.date.today(),
            taken={p.id_number for p in ps},
        )
    )
    out = []
    for p in ps:
        person = Person.objects.filter(id_number_hash=id_number_hash(p.id_number)).first()
        marks = {p.name, id_number_hash(p.id_number), blind_index(p.phone, purpose="phone")}
        if person is not None:
            marks |= {person.id_number_masked, person.phone_masked}
        out.append(
            {
                "name": p.name,
                "id_number": p.id_number,
                "phone": p.phone,
                "person_id": person.pk if person else None,
                "user_id": person.user_id if person else None,
                "marks": {m for m in marks if m},
            }
        )
    return out


def test_no_clear_columns_rebuild_an_id_number_or_a_phone(world):
    rows = dump()
    tables = {row[0] for row in rows}
    # The world holds what it should: people, the registry, cases, notices, audit, sessions.
    assert {"identity_person", "identity_populationrecord", "cases_application", "core_auditentry"} <= tables
    people = people_known_to_the_test()
    registered = [p for p in people if p["person_id"] is not None]
    assert len(registered) >= 4 and len(people) > 100

    everything = "\x00".join(row[3] for row in rows).upper()
    today = dt.date.today()
    worst_id, worst_phone = None, None
    for p in people:
        assert p["id_number"] not in everything, f"{p['name']}: ID number in clear"
        assert p["phone"] not in everything, f"{p['name']}: phone in clear"
        known, sex = known_id_positions(rows, p)
        count = id_candidates(p["id_number"], known, sex, today)
        if worst_id is None or count < worst_id[0]:
            worst_id = (count, p["name"], sorted(known))
        phones = phone_candidates(known_phone_positions(rows, p))
        if worst_phone is None or phones < worst_phone[0]:
            worst_phone = (phones, p["name"])
    assert worst_id[0] >= MIN_CANDIDATES, (
        f"ID number of {worst_id[1]} narrowed to {worst_id[0]}: {worst_id[2]}"
    )
    assert worst_phone[0] >= MIN_CANDIDATES, f"phone of {worst_phone[1]} narrowed to {worst_phone[0]}"


def test_the_counter_sees_what_the_old_columns_gave_away():
    """The attacker model itself: a county, a birth date and the old 3+4 mask leave one number."""
    n = "350102198503150110"
    rows = [("t", {}, ["林晓峰", "350102", dt.date(1985, 3, 15), "350***********0110"], "林晓峰")]
    person = {"person_id": None, "user_id": None, "marks": {"林晓峰"}, "id_number": n}
    known, sex = known_id_positions(rows, person)
    assert known == set(range(18)) and id_candidates(n, known, sex, dt.date.today()) == 1
    # Today's mask alone leaves millions; with a full birth date still about a thousand per
    # sex in a province of ~90 counties.
    known, _ = known_id_positions([("t", {}, ["林晓峰", "3****************0"], "林晓峰")], person)
    assert id_candidates(n, known, None, dt.date.today()) > 1_000_000
    assert phone_candidates({0, 1, 2, 7, 8, 9, 10}) == 10_000
