"""Synthetic base registries: people and companies with valid identifiers, for the demo,
tests and benchmarks. Nothing here is a real person: names are drawn from common surnames and
given-name characters, ID numbers and credit codes are built with the validators' own check
characters, and the registries store only keyed hashes and masked values.

``generate_registries(people=20000, companies=5000)`` fills ``PopulationRecord`` and
``LegalEntityRecord``; ``demo_people()`` / ``demo_companies()`` are fixed identities that are
always in the registries, so the demo can print them and a person can register with them.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from yiwang.core import audit
from yiwang.core.crypto import mask_id_number

from .models import LegalEntityRecord, PopulationRecord
from .registries import id_number_hash, phone_hash
from .sms import FakeSmsGateway
from .validators import CREDIT_ALPHABET, credit_check_char, id_check_digit, org_check_char

# Common surnames, weighted roughly as in Fujian (陈 and 林 lead there).
SURNAMES = (
    ("陈", 14), ("林", 12), ("黄", 8), ("张", 6), ("吴", 5), ("王", 5), ("李", 5), ("郑", 5),
    ("刘", 4), ("杨", 3), ("许", 3), ("蔡", 3), ("游", 2), ("魏", 2), ("何", 2), ("谢", 2),
    ("周", 2), ("叶", 2), ("洪", 2), ("苏", 2), ("罗", 2), ("庄", 2), ("曾", 2), ("邱", 2),
    ("江", 1), ("徐", 1), ("朱", 1), ("高", 1), ("方", 1), ("卢", 1), ("傅", 1), ("詹", 1),
    ("欧阳", 1), ("上官", 1),
)  # fmt: skip
GIVEN_MALE = "伟强磊军勇杰涛斌超明辉鹏华建国志文俊峰宇浩晨博毅凯鑫阳林海东荣彬坤福德"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞燕玲婷雪琳慧颖秀兰梅莉萍欣怡佳悦晓诗雨婉倩瑶琪"
GIVEN_ANY = "子思嘉一晓雅心佳俊文宏振永锦榕清"

TRADE_NAMES = (
    "恒信", "鑫源", "华泰", "闽江", "海峡", "榕城", "永盛", "佳和", "新丰", "宏达", "瑞祥", "嘉禾",
    "聚福", "天成", "顺发", "兴隆", "和美", "益民", "百味", "东方", "金闽", "三坊", "七巷", "鼓山",
    "武夷", "湄洲", "清源", "鹭岛", "南星", "明溪", "安泰", "广利", "鸿运", "合力", "同创", "万家",
)  # fmt: skip
INDUSTRIES = (
    "餐饮", "贸易", "科技", "建筑工程", "物流", "食品", "医药", "文化传媒", "装饰工程", "电子商务",
    "农业发展", "教育咨询", "茶业", "水产", "汽车服务", "家政服务",
)  # fmt: skip
PHONE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
    "156", "157", "158", "159", "166", "177", "180", "181", "182", "183", "185", "186", "187",
    "188", "189", "191", "198", "199",
)  # fmt: skip


@dataclass(frozen=True)
class SyntheticPerson:
    name: str
    id_number: str
    birth_date: dt.date
    region_code: str
    phone: str = ""
    deceased: bool = False


@dataclass(frozen=True)
class SyntheticCompany:
    credit_code: str
    name: str
    legal_rep: SyntheticPerson
    region_code: str
    registered_on: dt.date
    status: str = "active"


@dataclass(frozen=True)
class County:
    code: str
    name: str  # with its prefecture: 福州市鼓楼区


def make_id_number(region_code: str, birth: dt.date, sequence: int) -> str:
    first17 = f"{region_code}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_digit(first17)


def make_credit_code(region_code: str, body8: str, authority: str = "9", category: str = "1") -> str:
    first17 = authority + category + region_code + body8 + org_check_char(body8)
    return first17 + credit_check_char(first17)


# --- demo identities (fixed, always in the registries) -----------------------------------------


def demo_people() -> list[SyntheticPerson]:
    """Fixed people the demo prints; they are in the population registry and can register."""
    return [
        SyntheticPerson("林晓峰", make_id_number("350102", dt.date(1985, 3, 15), 11), dt.date(1985, 3, 15),
                        "350102", phone="13905910001"),
        SyntheticPerson("陈雅婷", make_id_number("350104", dt.date(1992, 8, 22), 24), dt.date(1992, 8, 22),
                        "350104", phone="13805910002"),
        SyntheticPerson("黄志明", make_id_number("350203", dt.date(1977, 11, 6), 35), dt.date(1977, 11, 6),
                        "350203", phone="18650010003"),
        SyntheticPerson("吴建国", make_id_number("350111", dt.date(1968, 1, 30), 17), dt.date(1968, 1, 30),
                        "350111", phone="15959110004"),
    ]  # fmt: skip


def demo_registrant() -> SyntheticPerson:
    """A fixed person in the registry with no account: the demo's walk through registration
    (the code goes to the fake gateway's page, since the phone is one of the demo's)."""
    return SyntheticPerson("郑丽娟", make_id_number("350105", dt.date(1990, 5, 20), 42), dt.date(1990, 5, 20),
                           "350105", phone="13705910005")  # fmt: skip


def demo_phones() -> list[str]:
    """The phones of the fixed demo identities: the only ones the fake SMS page shows."""
    return [p.phone for p in [*demo_people(), demo_registrant()]]


def demo_companies() -> list[SyntheticCompany]:
    """Fixed companies whose legal representatives are demo people (林晓峰, 黄志明)."""
    lin, _chen, huang, _wu = demo_people()
    return [
        SyntheticCompany(make_credit_code("350102", "MA2Y8K3L"), "福州市鼓楼区榕味餐饮有限公司", lin, "350102",
                         dt.date(2019, 6, 18)),
        SyntheticCompany(make_credit_code("350203", "MA31TQ7D"), "厦门市思明区海峡贸易有限公司", huang, "350203",
                         dt.date(2016, 9, 1)),
    ]  # fmt: skip


# --- generation ---------------------------------------------------------------------------------


def counties(province_code: str | None = None) -> list[County]:
    """County-level regions of the province: from the database when the region tree is loaded,
    otherwise from the bundled GB/T 2260 list (the generator must work on an empty database)."""
    from yiwang.regions.models import Region, RegionLevel
    from yiwang.regions.services import _read_gbt2260

    prefix = (province_code or settings.YIWANG_PROVINCE_CODE)[:2]
    names = dict(_read_gbt2260())
    in_db = list(
        Region.objects.filter(level=RegionLevel.COUNTY, code__startswith=prefix).values_list(
            "code", flat=True
        )
    )
    codes = sorted(c for c in in_db if len(c) == 6) or sorted(
        c for c in names if c.startswith(prefix) and not c.endswith("00")
    )
    result = []
    for code in codes:
        city = names.get(code[:4] + "00", "")
        name = names.get(code, code)
        result.append(County(code, name if name.startswith(city) else city + name))
    return result


def _name(rng: random.Random, male: bool) -> str:
    surname = rng.choices([s for s, _w in SURNAMES], weights=[w for _s, w in SURNAMES])[0]
    pool = GIVEN_MALE if male else GIVEN_FEMALE
    if rng.random() < 0.3:
        return surname + rng.choice(pool)
    return surname + rng.choice(pool + GIVEN_ANY) + rng.choice(pool)


def _phone(rng: random.Random) -> str:
    return rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def generate_people(
    n: int, *, rng: random.Random, region_codes: list[str], today: dt.date, taken: set[str]
) -> Iterator[SyntheticPerson]:
    """``n`` people with distinct valid ID numbers (not in ``taken``, which grows)."""
    start, end = dt.date(1940, 1, 1).toordinal(), today.toordinal()
    made = 0
    while made < n:
        male = rng.random() < 0.51
        birth = dt.date.fromordinal(rng.randrange(start, end + 1))
        # The sequence number's last digit is odd for men, even for women (GB 11643).
        seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
        id_number = make_id_number(rng.choice(region_codes), birth, seq)
        if id_number in taken:
            continue
        taken.add(id_number)
        made += 1
        yield SyntheticPerson(
            name=_name(rng, male),
            id_number=id_number,
            birth_date=birth,
            region_code=id_number[:6],
            phone=_phone(rng),
            deceased=birth.year < 1950 and rng.random() < 0.3 or rng.random() < 0.005,
        )


def generate_companies(
    m: int,
    *,
    rng: random.Random,
    counties_: list[County],
    reps: list[SyntheticPerson],
    today: dt.date,
    taken_codes: set[str],
    taken_names: set[str],
) -> Iterator[SyntheticCompany]:
    adults = [p for p in reps if not p.deceased and (today - p.birth_date).days > 20 * 366]
    if m and not adults:
        raise ValueError("no living adult to be a legal representative")
    body_alphabet = CREDIT_ALPHABET
    made = 0
    while made < m:
        county = rng.choice(counties_)
        code = make_credit_code(county.code, "MA" + "".join(rng.choice(body_alphabet) for _ in range(6)))
        trade = rng.choice(TRADE_NAMES)
        if rng.random() < 0.5:
            trade += rng.choice("华兴源盛达丰泰昌祥利")
        name = f"{county.name}{trade}{rng.choice(INDUSTRIES)}有限公司"
        if code in taken_codes or name in taken_names:
            continue
        taken_codes.add(code)
        taken_names.add(name)
        made += 1
        roll = rng.random()
        yield SyntheticCompany(
            credit_code=code,
            name=name,
            legal_rep=rng.choice(adults),
            region_code=county.code,
            registered_on=dt.date.fromordinal(
                rng.randrange(dt.date(2015, 10, 1).toordinal(), today.toordinal())
            ),
            status="cancelled" if roll < 0.02 else "revoked" if roll < 0.03 else "active",
        )


def population_record(p: SyntheticPerson) -> PopulationRecord:
    # Hashes and the masked number only: the birth date and region stay in the (encrypted,
    # here: unstored) number, and the phone is a keyed hash for the real-name phone check.
    return PopulationRecord(
        name=p.name,
        id_number_hash=id_number_hash(p.id_number),
        id_number_masked=mask_id_number(p.id_number),
        phone_hash=phone_hash(p.phone) if p.phone else "",
        deceased=p.deceased,
    )


def _put_people(records: list[PopulationRecord]) -> None:
    # A row already there gets today's hash and mask (rows made before the registry held
    # the phone or the shorter mask); the same seed gives the same values, so this is idempotent.
    PopulationRecord.objects.bulk_create(
        records,
        update_conflicts=True,
        unique_fields=["id_number_hash"],
        update_fields=["id_number_masked", "phone_hash"],
    )


def legal_entity_record(c: SyntheticCompany) -> LegalEntityRecord:
    return LegalEntityRecord(
        credit_code=c.credit_code,
        name=c.name,
        legal_representative_name=c.legal_rep.name,
        legal_representative_id_hash=id_number_hash(c.legal_rep.id_number),
        region_code=c.region_code,
        registered_on=c.registered_on,
        status=c.status,
    )


Progress = Callable[[str, int], Callable[[int], None]]


@dataclass
class RegistryReport:
    people: int = 0  # rows inserted
    companies: int = 0
    deceased: int = 0
    inactive_companies: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def ensure_demo_registry() -> None:
    """Put the demo people and companies in the registries (idempotent)."""
    _put_people([population_record(p) for p in [*demo_people(), demo_registrant()]])
    LegalEntityRecord.objects.bulk_create(
        [legal_entity_record(c) for c in demo_companies()], ignore_conflicts=True
    )


def generate_registries(
    *,
    people: int = 20000,
    companies: int = 5000,
    seed: int = 2026,
    province_code: str | None = None,
    today: dt.date | None = None,
    progress: Progress | None = None,
    batch_size: int = 2000,
) -> RegistryReport:
    """Fill the registries with ``people`` people and ``companies`` companies (plus the demo
    ones). The same seed gives the same records; rows already present are skipped."""
    rng = random.Random(seed)
    today = today or dt.date.today()
    report = RegistryReport()
    counties_ = counties(province_code)
    region_codes = [c.code for c in counties_]
    taken = {p.id_number for p in [*demo_people(), demo_registrant()]}

    t0 = time.perf_counter()
    before = PopulationRecord.objects.count()
    before_companies = LegalEntityRecord.objects.count()  # counted before the demo companies go in
    tick = progress("人口库", people) if progress else None
    generated: list[SyntheticPerson] = []
    with transaction.atomic():
        ensure_demo_registry()
        batch: list[PopulationRecord] = []
        for p in generate_people(people, rng=rng, region_codes=region_codes, today=today, taken=taken):
            generated.append(p)
            report.deceased += p.deceased
            batch.append(population_record(p))
            if len(batch) >= batch_size:
                _put_people(batch)
                if tick:
                    tick(len(batch))
                batch = []
        _put_people(batch)
        if tick:
            tick(len(batch))
    report.people = PopulationRecord.objects.count() - before
    report.seconds["people"] = round(time.perf_counter() - t0, 2)
    if tick and hasattr(tick, "close"):
        tick.close()

    t0 = time.perf_counter()
    tick = progress("法人库", companies) if progress else None
    demo = demo_companies()
    with transaction.atomic():
        batch_c: list[LegalEntityRecord] = []
        for c in generate_companies(
            companies,
            rng=rng,
            counties_=counties_,
            reps=generated or demo_people(),
            today=today,
            taken_codes={c.credit_code for c in demo},
            taken_names={c.name for c in demo},
        ):
            report.inactive_companies += c.status != "active"
            batch_c.append(legal_entity_record(c))
            if len(batch_c) >= batch_size:
                LegalEntityRecord.objects.bulk_create(batch_c, ignore_conflicts=True)
                if tick:
                    tick(len(batch_c))
                batch_c = []
        LegalEntityRecord.objects.bulk_create(batch_c, ignore_conflicts=True)
        if tick:
            tick(len(batch_c))
        report.companies = LegalEntityRecord.objects.count() - before_companies
        audit.record(
            "identity.registries.generate",
            object_type="identity.populationrecord",
            summary=f"synthetic registries: {report.people} people, {report.companies} companies",
            detail={"people": report.people, "companies": report.companies, "seed": seed},
        )
    report.seconds["companies"] = round(time.perf_counter() - t0, 2)
    if tick and hasattr(tick, "close"):
        tick.close()
    return report


# --- demo accounts ------------------------------------------------------------------------------

DEMO_PASSWORD = "Yiwang-demo-2026"  # noqa: S105  demo only, printed by make demo
DEMO_USERNAMES = ("linxf", "chenyt", "huangzm", "wujg")


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    person: SyntheticPerson
    description: str


def register_through_fake_sms(*, username: str, password: str, name: str, id_number: str, phone: str):
    """Register a synthetic person by the real two steps, reading the one-time code from the
    FAKE SMS gateway (demo accounts, test fixtures, benchmarks). Raises ``DomainError`` when no
    code was sent: the registry does not hold that name, ID number and phone together, or the
    ID number already has an account."""
    from yiwang.core.errors import DomainError

    from . import services

    gateway = FakeSmsGateway()
    token = services.start_registration(
        username=username, password=password, name=name, id_number=id_number, phone=phone, gateway=gateway
    )
    code = gateway.sent[-1][1] if gateway.sent and gateway.sent[-1][0] == phone else None
    if code is None:
        raise DomainError("no code was sent: not in the registry with this phone, or already registered")
    return services.complete_registration(token=token, code=code)


def create_demo_accounts(password: str = DEMO_PASSWORD) -> list[DemoAccount]:
    """Register the demo people (verified), their two companies, and a one-year all-items
    mandate from 林晓峰's company to 陈雅婷. Idempotent: existing accounts are kept."""
    from django.utils import timezone

    from . import services
    from .models import Mandate, Person

    ensure_demo_registry()
    people = demo_people()
    persons: list[Person] = []
    for username, p in zip(DEMO_USERNAMES, people, strict=True):
        person = Person.objects.filter(id_number_hash=id_number_hash(p.id_number)).first()
        if person is None:
            person = register_through_fake_sms(
                username=username, password=password, name=p.name, id_number=p.id_number, phone=p.phone
            )
        elif person.phone_verified_at is None:
            # An account from before phones were proven: prove it the same way.
            gateway = FakeSmsGateway()
            token = services.start_phone_verification(person, gateway=gateway)
            services.confirm_phone(person, token=token, code=gateway.sent[-1][1])
        persons.append(person)
    lin, chen, huang, _wu = persons
    company_a, company_b = demo_companies()
    a = services.register_company(person=lin, credit_code=company_a.credit_code, name=company_a.name)
    services.register_company(person=huang, credit_code=company_b.credit_code, name=company_b.name)
    if not Mandate.objects.filter(company=a, agent=chen, revoked_at__isnull=True).exists():
        start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        services.grant_mandate(
            company=a,
            by=lin,
            agent_id_number=people[1].id_number,
            all_items=True,
            starts_at=start,
            ends_at=start + dt.timedelta(days=365),
        )
    descriptions = (
        f"{company_a.name} 的法定代表人",
        f"{company_a.name} 的经办人（全部事项）",
        f"{company_b.name} 的法定代表人",
        "个人",
    )
    return [
        DemoAccount(u, password, p, d) for u, p, d in zip(DEMO_USERNAMES, people, descriptions, strict=True)
    ]
