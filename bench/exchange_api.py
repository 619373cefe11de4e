"""Throughput of logged single lookups through the exchange API beside /hello/ in the same run
(Django's test client in-process: the whole middleware stack, token check, rate-limit count,
grant check, registry read, log entry and kept answer; no HTTP server).

Sets up its own region tree, the legal-entity registry's owner and its data administrator,
``BENCH_COMPANIES`` (1,000) generated companies written through ``registries.upsert``, a
department system, grant and bearer token on the configured database: run it on a fresh scratch
one (DATABASE_URL=sqlite:////tmp/exchange_bench.db after ``migrate``). Every lookup reads the
real base registry (no stub), a different company each time. Target: lookups/s ≥ 0.25 ×
hello/s. Prints JSON; ``BENCH_PROFILE=1`` also prints a cProfile of one logged lookup."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
import types
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))  # this checkout's code, not an installed one
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
os.environ.setdefault("YIWANG_API_THROTTLE", "0")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from yiwang.exchange import clients, grants, registries  # noqa: E402

N = int(os.environ.get("BENCH_N", "300"))
COMPANIES = int(os.environ.get("BENCH_COMPANIES", "1000"))
PURPOSE = "性能测试核验"


def _companies() -> list[dict[str, str]]:
    """Generated companies (identity.synthetic: credit codes with right check characters)."""
    import random

    from yiwang.exchange.synthetic import company_values
    from yiwang.identity.synthetic import County, demo_people, generate_companies

    county = County("350102", "福州市鼓楼区")
    made = generate_companies(
        COMPANIES,
        rng=random.Random(18),
        counties_=[county],
        reps=demo_people(),
        today=dt.date(2026, 6, 1),
        taken_codes=set(),
        taken_names=set(),
    )
    extra = random.Random(19)
    return [company_values(c, extra, {county.code: county.name}) for c in made]


def _world() -> tuple[str, str, str, list[str]]:
    from tests import factories
    from tests.exchange.sharing_world import register, staff

    from yiwang.identity.models import Role

    tag = uuid.uuid4().hex[:6]
    regions = factories.region_tree()
    # The legal-entity registry's owner (the province's market-regulation bureau) writes the
    # records and publishes the resource.
    owner = factories.department(regions["province"])
    consumer = factories.department(regions["county"], kind="gaj", code="002")
    owner_admin = staff(f"bo_{tag}", Role.DATA_ADMIN, department=owner)
    consumer_admin = staff(f"bc_{tag}", Role.DATA_ADMIN, department=consumer)
    rows = _companies()
    result = registries.upsert("legal_entity", rows, department=owner, actor=owner_admin)
    if not result.ok:
        raise SystemExit(f"upsert: {result.errors[:3]}")
    s = types.SimpleNamespace(owner_admin=owner_admin, owner=owner)
    resource = register(s, "unconditional")  # type: ignore[arg-type]
    grants.request_share(
        consumer_admin,
        resource.pk,
        consumer=consumer,
        fields=["credit_code", "name"],
        purpose=PURPOSE,
        legal_basis="bench",
        items=[],
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + dt.timedelta(days=1),
    )
    new = clients.create_client(None, consumer, name=f"bench-{tag}", rate_limit="1000000/m")
    return resource.code, new.client_id, new.client_secret, [r["credit_code"] for r in rows]


def main() -> None:
    settings.ALLOWED_HOSTS = ["*"]
    code, cid, secret, subjects = _world()
    c = Client(HTTP_HOST="127.0.0.1")
    token = c.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "exchange", "client_id": cid, "client_secret": secret},
    ).json()["access_token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def lookup(i: int) -> None:
        body = {
            "resource": code,
            "subject": subjects[i % len(subjects)],
            "fields": ["name"],
            "purpose": PURPOSE,
            "case_number": "BENCH1",
            "request_id": f"b-{uuid.uuid4().hex}",
        }
        r = c.post("/api/exchange/lookup", json.dumps(body), content_type="application/json", **auth)
        if r.status_code != 200 or not r.json()["records"]:
            raise SystemExit(f"lookup: HTTP {r.status_code} {r.content[:200]!r}")

    for i in range(20):
        c.get("/hello/")
        lookup(i)
    t = time.perf_counter()
    for _ in range(N):
        c.get("/hello/")
    hello = N / (time.perf_counter() - t)
    t = time.perf_counter()
    for i in range(N):
        lookup(i)
    lookups = N / (time.perf_counter() - t)
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.runcall(lookup, N + 1)
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    print(
        json.dumps(
            {
                "registry": "real",
                "companies": len(subjects),
                "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
                "n": N,
                "hello_per_s": round(hello, 1),
                "lookup_per_s": round(lookups, 1),
                "ratio": round(lookups / hello, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
