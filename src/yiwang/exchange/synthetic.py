"""Synthetic base registries (``yiwang generate-registries``): people, companies, credit records
and e-certificates for the demo, tests and benchmarks, at province scale on PostgreSQL.

The people and companies are the ones ``identity.synthetic.generate_registries`` makes for the
real-name tables with the same seed (the same generators, called in the same order on the
same random stream), so a person who registers finds their record here too; their further
attributes (ethnicity, address, capital) come from a second stream. The demo's fixed people
and companies are always included.

Writing: on PostgreSQL each chunk is one transaction that locks the registry's counter, takes
its change numbers and COPYs the rows (``cursor.copy``): straight into the table when the
registry was empty at the start, else through a temporary table and
``INSERT … ON CONFLICT DO NOTHING`` so that a second run with the same seed adds nothing. On
SQLite, ``bulk_create(ignore_conflicts=True)`` in batches.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from yiwang.core import audit
from yiwang.core.crypto import encrypt
from yiwang.identity.registries import id_number_hash
from yiwang.identity.synthetic import (
    SyntheticCompany,
    SyntheticPerson,
    counties,
    demo_companies,
    demo_people,
    demo_registrant,
    generate_companies,
    generate_people,
)

from . import registries
from .models import CertificateStatus, ECertificate, HolderKind, RegistryRecord
from .services import DATA_CONTEXT, _valid_until, company_hash

Progress = Callable[[str, int], Callable[[int], None]]
CHUNK = 50_000  # rows per transaction on PostgreSQL

ETHNICITIES = (("汉族", 97), ("畲族", 1), ("回族", 1), ("苗族", 1))
STREETS = [
    "中山路",
    "解放路",
    "人民路",
    "建设路",
    "和平路",
    "新华路",
    "东街",
    "西街",
    "南门路",
    "北环路",
    "滨江路",
    "五一路",
    "八一七路",
    "湖东路",
]
CERT_TYPES = (
    ("食品经营许可证", 30),
    ("营业执照", 20),
    ("道路运输经营许可证", 8),
    ("药品经营许可证", 5),
    ("建筑施工企业安全生产许可证", 5),
    ("排污许可证", 4),
    ("机动车驾驶证", 14),
    ("出生医学证明", 8),
    ("结婚证", 6),
)
PERSON_CERTS = {"机动车驾驶证", "出生医学证明", "结婚证"}
PENALTY_CONTENT = (
    "未按规定公示年度报告",
    "超范围经营",
    "销售不符合食品安全标准的食品",
    "未取得许可从事经营活动",
)


class NoOwnerDepartment(Exception):
    """The region tree has no owner department for a registry (load the regions first)."""


@dataclass
class Report:
    inserted: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def person_values(p: SyntheticPerson, extra: random.Random, county_names: dict[str, str]) -> dict[str, Any]:
    ethnicity = extra.choices([e for e, _w in ETHNICITIES], weights=[w for _e, w in ETHNICITIES])[0]
    county = county_names.get(p.region_code, "")
    return {
        "id_number": p.id_number,
        "name": p.name,
        "gender": "male" if int(p.id_number[16]) % 2 else "female",
        "birth_date": p.birth_date.isoformat(),
        "ethnicity": ethnicity,
        "address": f"{county}{extra.choice(STREETS)}{extra.randrange(1, 300)}号",
        "household_region": p.region_code,
        "status": "deceased" if p.deceased else "normal",
    }


def company_values(c: SyntheticCompany, extra: random.Random, county_names: dict[str, str]) -> dict[str, Any]:
    return {
        "credit_code": c.credit_code,
        "name": c.name,
        "entity_type": "llc",
        "legal_representative": c.legal_rep.name,
        "registered_capital": str(extra.choice((10, 50, 100, 200, 500, 1000, 5000))),
        "address": f"{county_names.get(c.region_code, '')}{extra.choice(STREETS)}{extra.randrange(1, 300)}号",
        "established_on": c.registered_on.isoformat(),
        "status": c.status,
        "region_code": c.region_code,
    }


def credit_values(
    c: SyntheticCompany, n: int, extra: random.Random, today: dt.date, authority: str
) -> dict[str, Any]:
    roll = extra.random()
    kind = "licence" if roll < 0.6 else "penalty" if roll < 0.85 else "abnormal"
    decided = dt.date.fromordinal(
        extra.randrange(
            max(c.registered_on, today - dt.timedelta(days=1500)).toordinal(), today.toordinal() + 1
        )
    )
    word = {"licence": "许", "penalty": "罚", "abnormal": "异"}[kind]
    content = {
        "licence": "准予行政许可",
        "penalty": f"{extra.choice(PENALTY_CONTENT)}，罚款 {extra.choice((2000, 5000, 10000, 30000))} 元",
        "abnormal": "通过登记的住所或者经营场所无法联系",
    }[kind]
    return {
        "credit_code": c.credit_code,
        "kind": kind,
        "subject_name": c.name,
        "decision_number": f"闽{word}〔{decided.year}〕{n:08d}号",
        "authority": authority,
        "content": content,
        "decided_on": decided.isoformat(),
        "valid_until": (decided + dt.timedelta(days=365 * 3)).isoformat() if kind != "licence" else None,
    }


# --- writing --------------------------------------------------------------------------------------


def _pg() -> bool:
    return connection.vendor == "postgresql"


RECORD_COLUMNS = (
    "registry",
    "record_key",
    "subject_hash",
    "department_id",
    "version",
    "valid_from",
    "valid_until",
    "data_cipher",
    "data_public",
    "updated_at",
    "change_seq",
)


def _copy(table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]], *, direct: bool) -> int:
    """COPY ``rows`` into ``table``; with ``direct`` False through a temporary table and an
    insert that skips rows already there. Returns the rows inserted."""
    cols = ", ".join(columns)
    with connection.cursor() as cursor:
        target = table
        if not direct:
            target = f"tmp_{table}"
            # Only the copied columns: the id (an identity column) is given by the final insert.
            cursor.execute(f"DROP TABLE IF EXISTS {target}")
            cursor.execute(f"CREATE TEMP TABLE {target} AS SELECT {cols} FROM {table} WITH NO DATA")
        with cursor.cursor.copy(f"COPY {target} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        if direct:
            return len(rows)
        cursor.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {target} ON CONFLICT DO NOTHING")
        inserted = cursor.rowcount
        cursor.execute(f"DROP TABLE {target}")
        return inserted


def write_records(
    reg: registries.Registry,
    values_iter: Iterable[dict[str, Any]],
    *,
    department_id: int,
    tick: Callable[[int], None] | None = None,
    batch_size: int = 2000,
) -> int:
    """Insert version 1 of each record whose key is not there yet; returns the rows inserted.
    Change numbers are taken under the counter lock of each chunk's transaction."""
    pg = _pg()
    chunk = CHUNK if pg else batch_size
    direct = pg and not RegistryRecord.objects.filter(registry=reg.code).exists()
    inserted = 0
    buffer: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal inserted, buffer
        if not buffer:
            return
        with transaction.atomic():
            counter = registries.locked_counter(reg.code)
            now = timezone.now()
            seq = counter.last_seq
            prepared = []
            for values in buffer:
                seq += 1
                public, cipher = registries.split_values(reg, values)
                subject_hash = reg.subject_hash(values[reg.subject_field])
                key = registries.record_key(reg, values, subject_hash)
                prepared.append((key, subject_hash, public, cipher, seq))
            if pg:
                n = _copy(
                    RegistryRecord._meta.db_table,
                    RECORD_COLUMNS,
                    [
                        (
                            reg.code,
                            key,
                            sh,
                            department_id,
                            1,
                            now,
                            None,
                            cipher,
                            json.dumps(public, ensure_ascii=False),
                            now,
                            s,
                        )
                        for key, sh, public, cipher, s in prepared
                    ],
                    direct=direct,
                )
            else:
                before = RegistryRecord.objects.filter(registry=reg.code).count()
                RegistryRecord.objects.bulk_create(
                    [
                        RegistryRecord(
                            registry=reg.code,
                            record_key=key,
                            subject_hash=sh,
                            department_id=department_id,
                            version=1,
                            valid_from=now,
                            data_public=public,
                            data_cipher=cipher,
                            updated_at=now,
                            change_seq=s,
                        )
                        for key, sh, public, cipher, s in prepared
                    ],
                    ignore_conflicts=True,
                )
                n = RegistryRecord.objects.filter(registry=reg.code).count() - before
            counter.last_seq = seq
            counter.records += n
            if n:
                counter.updated_at = now
            counter.save(update_fields=["last_seq", "records", "updated_at"])
        inserted += n
        if tick:
            tick(len(buffer))
        buffer = []

    for values in values_iter:
        buffer.append(values)
        if len(buffer) >= chunk:
            flush()
    flush()
    return inserted


CERT_COLUMNS = (
    "cert_type",
    "number",
    "holder_kind",
    "holder_hash",
    "holder_name_masked",
    "department_id",
    "issuer_name",
    "issued_on",
    "valid_from",
    "valid_until",
    "data_cipher",
    "data_public",
    "file",
    "sha256",
    "status",
    "created_at",
)


def write_certificates(
    rows: Iterable[ECertificate], *, tick: Callable[[int], None] | None = None, batch_size: int = 2000
) -> int:
    pg = _pg()
    chunk = CHUNK if pg else batch_size
    inserted = 0
    buffer: list[ECertificate] = []

    def flush() -> None:
        nonlocal inserted, buffer
        if not buffer:
            return
        with transaction.atomic():
            if pg:
                now = timezone.now()
                inserted += _copy(
                    ECertificate._meta.db_table,
                    CERT_COLUMNS,
                    [
                        (
                            c.cert_type,
                            c.number,
                            c.holder_kind,
                            c.holder_hash,
                            c.holder_name_masked,
                            c.department_id,
                            c.issuer_name,
                            c.issued_on,
                            c.valid_from,
                            c.valid_until,
                            c.data_cipher,
                            json.dumps(c.data_public, ensure_ascii=False),
                            "",
                            "",
                            c.status,
                            now,
                        )
                        for c in buffer
                    ],  # fmt: skip
                    direct=False,
                )
            else:
                before = ECertificate.objects.count()
                ECertificate.objects.bulk_create(buffer, ignore_conflicts=True)
                inserted += ECertificate.objects.count() - before
        if tick:
            tick(len(buffer))
        buffer = []

    for cert in rows:
        buffer.append(cert)
        if len(buffer) >= chunk:
            flush()
    flush()
    return inserted


# --- the run ----------------------------------------------------------------------------------------


def _bar(progress: Progress | None, label: str, total: int) -> Callable[[int], None] | None:
    return progress(label, total) if progress else None


def _close(tick: Any) -> None:
    if tick is not None and hasattr(tick, "close"):
        tick.close()


def owners() -> dict[str, int]:
    """Owner department id per writable registry; ``NoOwnerDepartment`` when one is missing."""
    out = {}
    for code, reg in registries.REGISTRIES.items():
        if not reg.writable:
            continue
        dept = registries.owner_department(reg)
        if dept is None:
            raise NoOwnerDepartment(code)
        out[code] = dept.pk
    return out


def generate(
    *,
    people: int = 2000,
    companies: int = 500,
    certificates: int = 500,
    credit: int = 1000,
    seed: int = 2026,
    province_code: str | None = None,
    today: dt.date | None = None,
    progress: Progress | None = None,
    batch_size: int = 2000,
) -> Report:
    """Fill the registries (the same seed gives the same records; present ones are skipped)."""
    from yiwang.regions.models import Department, DepartmentKind

    owner_ids = owners()
    rng = random.Random(seed)  # the identity generator's stream: the same people and companies
    extra = random.Random(seed + 1)  # everything else
    today = today or dt.date.today()
    counties_ = counties(province_code)
    county_names = {c.code: c.name for c in counties_}
    region_codes = [c.code for c in counties_]
    fixed_people = [*demo_people(), demo_registrant()]
    taken = {p.id_number for p in fixed_people}
    report = Report()

    t0 = time.perf_counter()
    generated: list[SyntheticPerson] = []

    def people_values() -> Iterator[dict[str, Any]]:
        for p in fixed_people:
            yield person_values(p, extra, county_names)
        for p in generate_people(people, rng=rng, region_codes=region_codes, today=today, taken=taken):
            generated.append(p)
            yield person_values(p, extra, county_names)

    tick = _bar(progress, "人口库", people + len(fixed_people))
    report.inserted["population"] = write_records(
        registries.REGISTRIES["population"],
        people_values(),
        department_id=owner_ids["population"],
        tick=tick,
        batch_size=batch_size,
    )
    _close(tick)
    report.seconds["population"] = round(time.perf_counter() - t0, 2)

    t0 = time.perf_counter()
    fixed_companies = demo_companies()
    made: list[SyntheticCompany] = list(fixed_companies)

    def company_values_iter() -> Iterator[dict[str, Any]]:
        for c in fixed_companies:
            yield company_values(c, extra, county_names)
        for c in generate_companies(
            companies,
            rng=rng,
            counties_=counties_,
            reps=generated or demo_people(),
            today=today,
            taken_codes={c.credit_code for c in fixed_companies},
            taken_names={c.name for c in fixed_companies},
        ):
            made.append(c)
            yield company_values(c, extra, county_names)

    tick = _bar(progress, "法人库", companies + len(fixed_companies))
    report.inserted["legal_entity"] = write_records(
        registries.REGISTRIES["legal_entity"],
        company_values_iter(),
        department_id=owner_ids["legal_entity"],
        tick=tick,
        batch_size=batch_size,
    )
    _close(tick)
    report.seconds["legal_entity"] = round(time.perf_counter() - t0, 2)
    # Certificate holders: the first people of the same stream (they are in the registry).
    holders = generated[: min(certificates, 100_000)]
    generated.clear()

    t0 = time.perf_counter()
    authorities = list(
        Department.objects.filter(kind=DepartmentKind.MARKET_REGULATION)
        .order_by("pk")
        .values_list("pk", "name")[:200]
    ) or [(owner_ids["legal_entity"], "市场监督管理局")]

    def credit_iter() -> Iterator[dict[str, Any]]:
        # The demo companies first: a licence each, so the demo shows records.
        for n, c in enumerate(fixed_companies, start=1):
            values = credit_values(c, n, random.Random(seed + 100 + n), today, authorities[0][1])
            values.update(kind="licence", content="准予行政许可", valid_until=None)
            values["decision_number"] = f"闽许〔{today.year}〕D{n:07d}号"
            yield values
        for n in range(1, credit + 1):
            c = extra.choice(made)
            yield credit_values(c, n, extra, today, extra.choice(authorities)[1])

    tick = _bar(progress, "信用/监管库", credit + len(fixed_companies))
    report.inserted["credit"] = write_records(
        registries.REGISTRIES["credit"],
        credit_iter(),
        department_id=owner_ids["credit"],
        tick=tick,
        batch_size=batch_size,
    )
    _close(tick)
    report.seconds["credit"] = round(time.perf_counter() - t0, 2)

    t0 = time.perf_counter()

    def cert_iter() -> Iterator[ECertificate]:
        names = [t for t, _w in CERT_TYPES]
        weights = [w for _t, w in CERT_TYPES]
        for n in range(1, certificates + 1):
            cert_type = extra.choices(names, weights=weights)[0]
            dept_id, issuer = extra.choice(authorities)
            issued = dt.date.fromordinal(
                extra.randrange((today - dt.timedelta(days=1800)).toordinal(), today.toordinal() + 1)
            )
            if cert_type in PERSON_CERTS and holders:
                p = extra.choice(holders)
                kind, holder_hash, name, holder_id = (
                    HolderKind.PERSON,
                    id_number_hash(p.id_number),
                    p.name,
                    p.id_number,
                )
                masked = p.name[0] + "*" * max(len(p.name) - 1, 1)
                id_masked = p.id_number[0] + "*" * 16 + p.id_number[-1]
            else:
                c = extra.choice(made)
                kind, holder_hash, name, holder_id = (
                    HolderKind.COMPANY,
                    company_hash(c.credit_code),
                    c.name,
                    c.credit_code,
                )
                masked, id_masked = c.name, c.credit_code
            yield ECertificate(
                cert_type=cert_type,
                number=f"ZZS{seed % 10000:04d}{n:012d}",
                holder_kind=kind,
                holder_hash=holder_hash,
                holder_name_masked=masked,
                department_id=dept_id,
                issuer_name=issuer,
                issued_on=issued,
                valid_from=issued,
                valid_until=_valid_until(issued),
                data_cipher=encrypt(
                    json.dumps({"holder_name": name, "holder_id": holder_id}, ensure_ascii=False),
                    context=DATA_CONTEXT,
                ),
                data_public={"holder_id_masked": id_masked, "synthetic": True},
                status=CertificateStatus.VALID,
            )

    tick = _bar(progress, "电子证照库", certificates)
    report.inserted["e_certificate"] = write_certificates(cert_iter(), tick=tick, batch_size=batch_size)
    _close(tick)
    report.seconds["e_certificate"] = round(time.perf_counter() - t0, 2)

    if _pg():
        # Fresh statistics: with the planner's estimates from before the load, a lookup of 1,000
        # subjects scans the registry's whole partial index instead of probing it per subject.
        with connection.cursor() as cursor:
            for model in (RegistryRecord, ECertificate):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    with transaction.atomic():
        audit.record(
            "exchange.registry.generate",
            object_type="exchange.registryrecord",
            summary="synthetic base registries: " + ", ".join(f"{k} {v}" for k, v in report.inserted.items()),
            detail={"inserted": report.inserted, "seed": seed},
        )
    return report


def ensure_demo(*, people: int, companies: int, certificates: int = 300, credit: int = 1000) -> Report | None:
    """The demo's base registries (``make demo``): the same people and companies as the
    real-name tables (same seed), the demo's accounts and companies included. Nothing when
    they are filled already or the region tree has no owner departments."""
    from .models import RegistryCounter

    if RegistryCounter.objects.filter(registry="population", records__gte=people).exists():
        return None
    try:
        return generate(people=people, companies=companies, certificates=certificates, credit=credit)
    except NoOwnerDepartment:
        return None
