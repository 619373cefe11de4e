"""Base-registry lookups, server side and in-process (``exchange.registries.lookup``), beside
Django's hello-world in the same run. Run against a database filled by generate-registries:

    DATABASE_URL=postgres://…/yiwang PYTHONPATH=src .venv/bin/yiwang generate-registries \
        --people 10000000 --companies 1000000 --certificates 2000000 --credit 2000000
    DATABASE_URL=postgres://…/yiwang PYTHONPATH=src .venv/bin/python bench/registry_lookup.py

The subjects are plain ID numbers and credit codes read back from a random sample of records
(decrypted: the only place they are). Measures a single person lookup (three personal fields:
one query, one decryption), a single company lookup (public fields: no decryption), a credit
lookup (many records per subject), and bulk lookups of 1,000 people. Prints one JSON object:
milliseconds (p50/p95/p99), hello-world requests per second, and lookups per second divided
by it. Targets: single p95 <= 5 ms, bulk of 1,000 <= 200 ms."""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from case_lifecycle import hello_rps  # noqa: E402
from yiwang.core.crypto import decrypt  # noqa: E402
from yiwang.exchange import registries  # noqa: E402
from yiwang.exchange.models import RegistryCounter, RegistryRecord  # noqa: E402

SINGLE = int(os.environ.get("BENCH_REGISTRY_SINGLE", "2000"))
BULK_RUNS = int(os.environ.get("BENCH_REGISTRY_BULK_RUNS", "30"))
SAMPLE = int(os.environ.get("BENCH_REGISTRY_SAMPLE", "20000"))


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def figures(ms: list[float]) -> dict[str, float]:
    return {f"p{p}": round(percentile(ms, p), 3) for p in (50, 95, 99)}


def sample_subjects(code: str, n: int, rng: random.Random) -> list[str]:
    """Plain subjects of ``n`` random current records (ids drawn between the smallest and the
    largest: one index probe each, no scan of the table)."""
    reg = registries.REGISTRIES[code]
    qs = RegistryRecord.objects.filter(registry=code, valid_until__isnull=True)
    lo = qs.order_by("pk").values_list("pk", flat=True).first()
    hi = qs.order_by("-pk").values_list("pk", flat=True).first()
    if lo is None or hi is None:
        return []
    ids = {rng.randint(lo, hi) for _ in range(min(n * 2, 60000))}  # PostgreSQL: at most 65,535 parameters
    out: list[str] = []
    field = reg.subject_field
    for public, cipher in qs.filter(pk__in=ids).values_list("data_public", "data_cipher")[:n]:
        if field in public:
            out.append(public[field])
        else:
            out.append(json.loads(decrypt(cipher, context=reg.context))[field])
    return out


def time_single(code: str, subjects: list[str], fields: list[str]) -> dict[str, float]:
    for s in subjects[:50]:  # warm up: connection, prepared statements
        registries.lookup(code, [s], fields)
    ms = []
    found = 0
    for s in subjects[:SINGLE]:
        t0 = time.perf_counter()
        found += bool(registries.lookup(code, [s], fields))
        ms.append((time.perf_counter() - t0) * 1000)
    return {**figures(ms), "n": len(ms), "found": found}


def time_bulk(subjects: list[str], fields: list[str], rng: random.Random) -> dict[str, float]:
    ms = []
    found = 0
    for _ in range(BULK_RUNS):
        batch = rng.sample(subjects, min(1000, len(subjects)))
        t0 = time.perf_counter()
        found = len(registries.lookup("population", batch, fields))
        ms.append((time.perf_counter() - t0) * 1000)
    return {**figures(ms), "runs": len(ms), "found_last": found}


def main() -> None:
    setup_test_environment()  # the test client's host for hello-world
    rng = random.Random(7)
    counts = {c.registry: c.records for c in RegistryCounter.objects.all()}
    people = sample_subjects("population", SAMPLE, rng)
    companies = sample_subjects("legal_entity", min(SAMPLE, 5000), rng)
    credit = sample_subjects("credit", min(SAMPLE, 5000), rng)
    out: dict[str, object] = {"database": connection.vendor, "records": counts, "sampled_people": len(people)}
    out["single_person_ms"] = time_single("population", people, ["name", "birth_date", "address"])
    out["single_company_ms"] = time_single("legal_entity", companies, ["name", "status", "region_code"])
    out["single_credit_ms"] = time_single("credit", credit, ["kind", "decision_number", "decided_on"])
    out["bulk_1000_people_ms"] = time_bulk(people, ["name", "birth_date", "address"], rng)
    hello = hello_rps()
    out["hello_rps"] = round(hello, 1)
    p50 = out["single_person_ms"]["p50"]  # type: ignore[index]
    out["single_person_per_s_per_hello"] = round(1000 / max(p50, 1e-6) / hello, 2)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
