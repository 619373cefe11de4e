"""Bundle lifecycle throughput on PostgreSQL beside a single-department item (not part of the
test suite).

    BENCH_PG_URL=postgres://postgres@127.0.0.1:5432 \
        .venv/bin/python bench/bundle_lifecycle.py [--workers 2] [--seconds 30] [--db NAME] [--write-docs]

A 7-branch bundle (多评合一 shape: seven published promise items of seven departments of one
county, led by the demo item's department) goes through its whole life: the umbrella draft
(combined form, each material uploaded once), submit, unified acceptance (seven branch cases
spawned with their mapped fields and shared materials), each branch decided by its own
department's head (one-step branches, ``Bundle.one_step_branches``, as the ready-made 多评合一:
each department reviews and gives its opinion at once), the unified decision, one delivery,
close. Beside it, in the same run
and on the same workers, the single-department promise item of ``bench/case_lifecycle.py``
(draft, uploads, submit, accept, review, decide, deliver, close; its helpers are imported, not
copied). Each worker alternates one bundle and one single case and times each kind apart, so
both see the same machine load; cases/s of a kind = Σ over workers of (cases of that kind ÷ time
spent on that kind). Target: bundle ≥ 1/3 of single. Also printed: the process CPU time of each
kind (the workers' own, without the database server's), less sensitive to other jobs on a shared
machine than the elapsed time.

The database is created for the run on the server ``BENCH_PG_URL`` names and filled like the
case lifecycle's (``generate-province --items 2000 --no-bundles`` and the demo accounts), then
dropped; ``--db NAME`` uses and keeps that database instead (bench/scratch.py). Notices and
outbox messages are queued to a Redis server the run starts for itself and not run. The figures
go to var/bench/results/bundle_lifecycle.md, and with ``--write-docs`` into docs/benchmarks.md.
The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import case_lifecycle as cl  # noqa: E402
import report as bench_report  # noqa: E402
import scratch  # noqa: E402

TARGET_RATIO = 1 / 3
BUNDLE_CODE = "bench-7"
BRANCHES = 7


def prepare_bundle(info: dict) -> int:
    """The 7-branch bundle (once per database): seven published promise items of seven other
    departments of the demo item's county, their staff, the bundle published."""
    from django.contrib.auth import get_user_model

    from yiwang.bundles import services as bundles
    from yiwang.bundles.models import Bundle
    from yiwang.catalog.models import ServiceItem
    from yiwang.identity.models import Role, StaffRole

    existing = Bundle.objects.filter(code=BUNDLE_CODE, published=True).first()
    if existing is not None:
        if not existing.one_step_branches:  # a database made before the setting existed
            bundles.update_bundle(existing, user=None, one_step_branches=True)
        return existing.pk
    lead_item = ServiceItem.objects.select_related("department", "region").get(pk=info["item"])
    lead = lead_item.department
    items: list[ServiceItem] = []
    seen = {lead.pk}
    candidates = (
        ServiceItem.objects.filter(
            region=lead.region,
            current_version__isnull=False,
            is_instant=False,
            promised_limit_days__isnull=False,
        )
        .exclude(department=lead)
        .select_related("department")
        .order_by("department_id", "pk")
    )
    for item in candidates:
        if item.department_id not in seen:
            seen.add(item.department_id)
            items.append(item)
        if len(items) == BRANCHES:
            break
    if len(items) < BRANCHES:
        raise SystemExit(f"only {len(items)} departments with published promise items in {lead.region}")
    User = get_user_model()
    for item in items:
        for prefix, role in (("bapprover", Role.APPROVER), ("bhead", Role.DEPARTMENT_HEAD)):
            user, created = User.objects.get_or_create(username=f"{prefix}_{item.department_id}")
            if created:
                user.set_unusable_password()
                user.save()
                StaffRole.objects.create(
                    user=user, role=role, department=item.department, region=item.department.region
                )
    bundle = Bundle.objects.filter(code=BUNDLE_CODE).first() or bundles.create_bundle(
        user=None,
        code=BUNDLE_CODE,
        name="投资项目多评合一（基准）",
        kind="combined_assessment",
        lead_department=lead,
        overall_limit_days=None,
        one_step_branches=True,  # as the ready-made 多评合一: each department's opinion in one step
    )
    for item in items:
        if not bundle.members.filter(item=item).exists():
            bundles.add_member(bundle, item, user=None)
    limits = [bundles.branch_limit(m) for m in bundle.members.select_related("item__current_version")]
    bundles.update_bundle(bundle, user=None, overall_limit_days=max(limits))
    bundles.rebuild_combined_form(bundle)
    bundles.publish_bundle(bundle)
    return bundle.pk


def _generate() -> None:
    """The province without the generator's ready-made bundles: the bench builds its own, and the
    demo item of the single-department side keeps the default form."""
    from django.core.management import call_command

    from yiwang.catalog.models import ServiceItem

    call_command("migrate", verbosity=0)
    if not ServiceItem.objects.filter(current_version__isnull=False).exists():
        call_command("generate_province", items=2000, no_bundles=True, no_progress=True, verbosity=0)


def _bundle_actors(bundle_id: int):
    from django.contrib.auth import get_user_model

    from yiwang.bundles.models import Bundle

    User = get_user_model()
    bundle = Bundle.objects.select_related("item").get(pk=bundle_id)
    by_dept = {}
    for m in bundle.members.select_related("item"):
        d = m.item.department_id
        by_dept[d] = (User.objects.get(username=f"bapprover_{d}"), User.objects.get(username=f"bhead_{d}"))
    return bundle, by_dept


def bundle_case(bundle, applicant, staff: dict, by_dept: dict) -> str:
    """The whole life of one bundle case, from an empty umbrella draft to closed."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from yiwang.bundles import services as bundles
    from yiwang.bundles.models import BundleBranch
    from yiwang.cases import actions
    from yiwang.cases import services as cases
    from yiwang.cases.models import Case

    app = bundles.start_bundle_application(applicant, bundle, {})
    cases.save_draft(
        app, user=applicant, data={**app.data, "reason": "基准测试"}, delivery_method="electronic"
    )
    for m in bundles.combined_materials(bundle, list(bundle.members.all())):
        cases.upload_material(
            app, requirement=m["name"], uploaded=SimpleUploadedFile("a.pdf", cl.PDF), user=applicant
        )
    umbrella = bundles.submit_bundle(app, user=applicant)
    umbrella = actions.Accept(umbrella, staff["clerk"]).run()
    # The branch cases as each department's inbox lists them; each action locks and reads its case.
    for b in BundleBranch.objects.filter(umbrella=umbrella).only("branch_id", "department_id"):
        approver, head = by_dept[b.department_id]
        case = Case(pk=b.branch_id)
        if not bundle.one_step_branches:
            case = actions.Review(case, approver, decision="pass").run()
        actions.Decide(case, head, decision="approve").run()
    umbrella = bundles.decide_bundle(umbrella, actor=staff["dept_head"])
    umbrella = actions.Deliver(umbrella, staff["clerk"], method="electronic").run()
    umbrella = actions.Close(umbrella, staff["clerk"]).run()
    return umbrella.state


def worker(idx: int, item_id: int, bundle_id: int, seconds: float, barrier, out) -> None:
    cl._setup_django()
    timers = cl.Timers()
    timers.install()
    try:
        item, applicant, staff = cl._actors(item_id)
        bundle, by_dept = _bundle_actors(bundle_id)
        cl.one_case(item, applicant, staff)  # warm caches (process specs, calendar)
        bundle_case(bundle, applicant, staff, by_dept)
    except BaseException:
        barrier.abort()
        raise
    barrier.wait()
    spent = {"single": 0.0, "bundle": 0.0}
    cpu = {"single": 0.0, "bundle": 0.0}
    count = {"single": 0, "bundle": 0}
    queries = {"single": 0, "bundle": 0}
    errors = 0
    started = time.perf_counter()
    kinds = ["bundle", "single"] if idx % 2 else ["single", "bundle"]
    while time.perf_counter() - started < seconds:
        for kind in kinds:
            q0, t0, c0 = timers.queries, time.perf_counter(), time.process_time()
            try:
                if kind == "single":
                    cl.one_case(item, applicant, staff)
                else:
                    bundle_case(bundle, applicant, staff, by_dept)
                count[kind] += 1
            except Exception as exc:  # a lost race must show up in the figures, not stop the run
                errors += 1
                if errors <= 3:
                    print(f"worker {idx} {kind}: {type(exc).__name__}: {exc}", file=sys.stderr)
            spent[kind] += time.perf_counter() - t0
            cpu[kind] += time.process_time() - c0
            queries[kind] += timers.queries - q0
    out.put({"spent": spent, "cpu": cpu, "count": count, "queries": queries, "errors": errors})


def block(r: dict) -> str:
    """The figures of docs/benchmarks.md's bundle lifecycle block."""
    met = "met" if r["ratio"] >= TARGET_RATIO else "NOT met"
    return "\n".join(
        [
            f"- run: {bench_report.stamp()}; load average {', '.join(map(str, r['load_avg'][:3]))} at the "
            f"start, {', '.join(map(str, r['load_avg'][3:]))} at the end",
            f"- {r['workers']} worker processes for {r['seconds']:g} s, {r['database']} on the same machine; "
            f"the bundle's umbrella draft has {r['materials']} materials",
            "",
            "| figure | value | target |",
            "|---|---|---|",
            f"| 7-branch bundle | {r['bundle_per_s']} cases/s ({r['bundle_cases']} cases; {r['bundle_ms']} ms, "
            f"{r['bundle_cpu_ms']} ms CPU and {r['bundle_queries']} statements each) | |",
            f"| baseline: single-department item, same workers, same run | {r['single_per_s']} cases/s "
            f"({r['single_cases']} cases; {r['single_ms']} ms, {r['single_cpu_ms']} ms CPU and "
            f"{r['single_queries']} statements each) | |",
            f"| bundle ÷ single | {r['ratio']} | ≥ 0.33 ({met}) |",
            f"| bundle ÷ single by process CPU | {r['cpu_ratio']} | |",
            f"| errors | {r['errors']} | 0 |",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--db", help="use and keep this database (created when missing) instead of a new one")
    parser.add_argument("--write-docs", action="store_true", help="replace the block in docs/benchmarks.md")
    args = parser.parse_args()
    cl._env()
    with (
        scratch.pg_database("bundles", args.db) as database_url,
        scratch.data_dir("bundles", args.db) as data_dir,
        scratch.own_redis() as redis_url,
    ):
        os.environ.update(DATABASE_URL=database_url, YIWANG_DATA_DIR=data_dir, REDIS_URL=redis_url)
        report = run(args)
    bench_report.publish("bundle_lifecycle", block(report), write_docs=args.write_docs)
    print(json.dumps(report, ensure_ascii=False))


def run(args) -> dict:
    cl._setup_django()
    from django.db import connection

    _generate()
    info = cl.prepare()
    bundle_id = prepare_bundle(info)
    from yiwang.bundles.models import Bundle

    bundle = Bundle.objects.get(pk=bundle_id)
    materials = len(bundle.materials.all())
    database = "PostgreSQL {}.{}".format(*divmod(connection.cursor().connection.info.server_version, 10000))
    connection.close()
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(args.workers + 1), ctx.Queue()
    procs = [
        ctx.Process(target=worker, args=(i, info["item"], bundle_id, args.seconds, barrier, out))
        for i in range(args.workers)
    ]
    for p in procs:
        p.start()
    try:
        barrier.wait(timeout=1800)
        load_before = os.getloadavg()
        results = [out.get(timeout=args.seconds + 600) for _ in procs]
        load_after = os.getloadavg()
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()

    def rate(kind: str) -> float:
        return sum(r["count"][kind] / r["spent"][kind] for r in results if r["spent"][kind])

    def each(kind: str, key: str) -> float:
        n = sum(r["count"][kind] for r in results)
        return sum(r[key][kind] for r in results) / max(n, 1)

    single, bundle_rate = rate("single"), rate("bundle")
    report = {
        "database": database,
        "workers": args.workers,
        "seconds": args.seconds,
        "materials": materials,
        "single_per_s": round(single, 2),
        "bundle_per_s": round(bundle_rate, 2),
        "ratio": round(bundle_rate / single, 3) if single else 0.0,
        "single_cases": sum(r["count"]["single"] for r in results),
        "bundle_cases": sum(r["count"]["bundle"] for r in results),
        "single_ms": round(each("single", "spent") * 1000, 1),
        "bundle_ms": round(each("bundle", "spent") * 1000, 1),
        "single_queries": round(each("single", "queries"), 1),
        "bundle_queries": round(each("bundle", "queries"), 1),
        "single_cpu_ms": round(each("single", "cpu") * 1000, 1),
        "bundle_cpu_ms": round(each("bundle", "cpu") * 1000, 1),
        "errors": sum(r["errors"] for r in results),
        "cpu_ratio": round(each("single", "cpu") / each("bundle", "cpu"), 3)
        if each("bundle", "cpu")
        else 0.0,
        "load_avg": [round(x, 2) for x in (*load_before, *load_after)],
    }
    print(
        f"single {report['single_per_s']} cases/s, bundle {report['bundle_per_s']} cases/s, "
        f"ratio {report['ratio']} (target ≥ {TARGET_RATIO:.2f}); process CPU per case {report['single_cpu_ms']} ms "
        f"and {report['bundle_cpu_ms']} ms, ratio {report['cpu_ratio']}; load {report['load_avg']}"
    )
    return report


if __name__ == "__main__":
    main()
