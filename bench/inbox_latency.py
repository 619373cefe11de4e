"""Inbox latency with 1,000,000 cases, 100,000 of them open in the staff member's department
(not part of the test suite).

    BENCH_PG_URL=postgres://postgres@127.0.0.1:5432 \
        .venv/bin/python bench/inbox_latency.py [--cases 1000000] [--open 100000] [--requests 600]
        [--db NAME] [--write-docs] [--plans plans.json] [--no-migrate] [--fill-only]

The database is created for the run on the server ``BENCH_PG_URL`` names and dropped at the end;
``--db NAME`` uses and keeps that database, so later runs skip the fill (bench/scratch.py). A
kept database is filled once: a second run with other ``--cases``/``--open`` measures the rows
already there. The rows are made with INSERT ... SELECT generate_series, cloning one template
Application / Case / WorkflowInstance / Task row made through the ORM (so every NOT NULL column
gets a real value): ``--open`` cases under review in department A with one open task each (80 %
review for approvers, 10 % accept for clerks, 10 % decide for the head; 5 % assigned to the
benchmark user), and the rest spread over 40 other departments (70 % closed with a completed task,
30 % open); then VACUUM ANALYZE, as autovacuum would have done on a live table. The benchmark user
is approver and department head of A, so the inbox has three scopes.

Times ``--requests`` calls of the workbench inbox page ``/workbench/`` through the Django test
client (middleware, session, template), each a random filter (none, step, overdue, due soon,
item) x order (due date, newest) x position (page 1, or a next/previous cursor at a random depth:
a random task of that list as the cursor), and of the selectors alone; prints p50/p95/p99 beside
Django's hello-world view in the same process and the load average. Then runs EXPLAIN (ANALYZE,
BUFFERS) on every inbox query of page 1, a next and a previous link for each filter and order,
and exits 1 if one is not served by indexes alone (sequential or bitmap scan, or a sort of more
than ``SORT_BOUND`` rows). The figures go to var/bench/results/inbox_latency.md, and with
``--write-docs`` into docs/benchmarks.md (bench/report.py). The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from django.db import transaction

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import report as bench_report  # noqa: E402
import scratch  # noqa: E402

TARGET_P95_MS = 50.0
OTHER_DEPTS = 40


def _env() -> None:
    """DATABASE_URL and YIWANG_DATA_DIR come from ``scratch`` (main)."""
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    os.environ["DJANGO_SETTINGS_MODULE"] = "yiwang.settings"
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))


@transaction.atomic  # a failed first run leaves nothing behind
def _world():
    """Department A with the benchmark user, 40 other departments, one item each."""
    from django.contrib.auth import get_user_model
    from tests import factories

    from yiwang.catalog import services as catalog
    from yiwang.identity.models import Role, StaffRole

    User = get_user_model()
    user = User.objects.filter(username="bench_inbox").first()
    if user is not None:
        return user
    from yiwang.regions.models import Region, RegionLevel

    regions = factories.region_tree()
    depts = [factories.department(regions["county"], code="901", name="基准局A")]
    for i in range(OTHER_DEPTS):  # one market-regulation bureau per county (unique per region)
        county = Region.objects.create(
            code=f"3502{i + 10:02d}",
            name=f"基准县{i}",
            level=RegionLevel.COUNTY,
            parent=regions["other_city"],
        )
        depts.append(factories.department(county, code=f"{910 + i}", name=f"基准局{i}"))
    for i, d in enumerate(depts):
        std = factories.standard_item(f"09{i:09d}", name=f"基准事项{i}")
        item = factories.implementation(std, d, promised_limit_days=20)
        catalog.publish(item)
    user = User.objects.create_user("bench_inbox", password="bench-Inbox-2026")
    for role in (Role.APPROVER, Role.DEPARTMENT_HEAD):
        StaffRole.objects.create(user=user, role=role, department=depts[0])
    User.objects.create_user("bench_applicant")
    return user


def _template_rows(user):
    """One real Application/Case/WorkflowInstance/Task made through the ORM; the bulk insert
    clones it (every NOT NULL column gets the ORM's value unless overridden)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from yiwang.cases.models import Application, Case, CaseState
    from yiwang.catalog.models import ServiceItem
    from yiwang.workflow.models import Task, WorkflowInstance
    from yiwang.workflow.services import ensure_templates

    tpl = Case.objects.filter(number="TPL000000000").first()
    if tpl is not None:
        return tpl
    item = ServiceItem.objects.filter(department__name="基准局A", current_version__isnull=False).get()
    applicant = get_user_model().objects.get(username="bench_applicant")
    now = timezone.now()
    app = Application.objects.create(
        applicant=applicant,
        item_version=item.current_version,
        form_schema={},
        data={},
        idempotency_key="TPL",
        submitted_at=now,
    )
    case = Case.objects.create(
        number="TPL000000000",
        check_code="BENCH1",
        application=app,
        item=item,
        item_version=item.current_version,
        item_name=item.current_version.name,
        region=item.region,
        department=item.department,
        applicant=applicant,
        applicant_name="测试申请人",
        state=CaseState.CLOSED,
        submitted_at=now,
        accepted_on=timezone.localdate(),
        limit_days=20,
        due_date=timezone.localdate(),
    )
    wi = WorkflowInstance.objects.create(case_id=case.pk, definition=ensure_templates()["promise"], state={})
    Task.objects.create(
        instance=wi,
        case_id=case.pk,
        task_uuid="00000000-0000-0000-0000-000000000000",
        spec_name="review",
        label="审查",
        role="approver",
        decisions=["pass", "return"],
        state="completed",
        department=item.department,
        region_path=item.region.path,
    )
    return case


def _clone(cur, table: str, tpl_where: str, overrides: dict[str, str], source: str) -> str:
    """``INSERT INTO table (cols) SELECT <override or t.col> FROM source, table t WHERE t.<tpl>``."""
    cur.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND column_name <> 'id' "
        "ORDER BY ordinal_position",
        [table],
    )
    cols = [r[0] for r in cur.fetchall()]
    exprs = [overrides.get(c, f't."{c}"') for c in cols]
    collist = ", ".join(f'"{c}"' for c in cols)
    return f"INSERT INTO {table} ({collist}) SELECT {', '.join(exprs)} FROM {source}, {table} t WHERE {tpl_where}"


def fill(total: int, open_in_a: int, batch: int = 100_000) -> float:
    """Make ``total`` cases (skipping what a previous run made); returns seconds."""
    from django.db import connection

    from yiwang.cases.models import Case
    from yiwang.regions.models import Department

    have = Case.objects.filter(number__startswith="BI").count()
    if have >= total:
        return 0.0
    tpl = Case.objects.get(number="TPL000000000")
    a = Department.objects.get(name="基准局A")
    others = list(Department.objects.filter(name__startswith="基准局").exclude(pk=a.pk).order_by("pk"))
    from yiwang.catalog.models import ServiceItem

    items = {i.department_id: i for i in ServiceItem.objects.filter(department__in=[a, *others])}
    dept_ids = [d.pk for d in others]
    item_ids = [items[d].pk for d in dept_ids]
    version_ids = [items[d].current_version_id for d in dept_ids]
    from django.contrib.auth import get_user_model

    user_id = get_user_model().objects.get(username="bench_inbox").pk
    t0 = time.perf_counter()
    # g: the case's serial. In A when g <= open_in_a; else department others[g % 40].
    in_a = f"(g <= {open_in_a})"
    k = f"(g % {len(dept_ids)} + 1)"
    dept = f"(CASE WHEN {in_a} THEN {a.pk} ELSE (ARRAY{dept_ids})[{k}] END)"
    is_open = f"({in_a} OR g % 10 < 3)"
    due = "(CURRENT_DATE + ((g::bigint * 7919) % 121 - 60)::int)"
    with connection.cursor() as cur:
        start = have + 1
        while start <= total:
            end = min(start + batch - 1, total)
            src = f"generate_series({start}, {end}) g"
            with transaction.atomic():  # a batch is all or nothing, so a rerun can resume
                cur.execute(
                    _clone(
                        cur,
                        "cases_application",
                        f"t.id = {tpl.application_id}",
                        {
                            "idempotency_key": "'BI' || g",
                            "item_version_id": (
                                f"(CASE WHEN {in_a} THEN t.item_version_id ELSE (ARRAY{version_ids})[{k}] END)"
                            ),
                        },
                        src,
                    )
                )
                cur.execute(
                    _clone(
                        cur,
                        "cases_case",
                        f"t.id = {tpl.pk}",
                        {
                            "number": "'BI' || lpad(g::text, 12, '0')",
                            "application_id": "a.id",
                            "department_id": dept,
                            "item_id": f"(CASE WHEN {in_a} THEN t.item_id ELSE (ARRAY{item_ids})[{k}] END)",
                            "item_version_id": "a.item_version_id",
                            "state": f"(CASE WHEN {is_open} THEN 'under_review' ELSE 'closed' END)",
                            "due_date": due,
                            "submitted_at": "now() - (g % 90) * interval '1 day'",
                        },
                        f"{src} JOIN cases_application a ON a.idempotency_key = 'BI' || g",
                    )
                )
                cur.execute(
                    _clone(
                        cur,
                        "workflow_workflowinstance",
                        f"t.case_id = {tpl.pk}",
                        {"case_id": "c.id", "finished": f"NOT {is_open}"},
                        f"{src} JOIN cases_case c ON c.number = 'BI' || lpad(g::text, 12, '0')",
                    )
                )
                spec = "(CASE WHEN g % 10 = 1 THEN 'accept' WHEN g % 10 = 2 THEN 'decide' ELSE 'review' END)"
                cur.execute(
                    _clone(
                        cur,
                        "workflow_task",
                        f"t.case_id = {tpl.pk}",
                        {
                            "instance_id": "w.id",
                            "case_id": "c.id",
                            "item_id": "c.item_id",
                            "task_uuid": "md5(g::text)::uuid",
                            "spec_name": spec,
                            "role": (
                                "(CASE WHEN g % 10 = 1 THEN 'counter_clerk' WHEN g % 10 = 2 THEN 'department_head'"
                                " ELSE 'approver' END)"
                            ),
                            "label": "(CASE WHEN g % 10 = 1 THEN '受理' WHEN g % 10 = 2 THEN '决定' ELSE '审查' END)",
                            "department_id": "c.department_id",
                            "state": f"(CASE WHEN {is_open} THEN 'open' ELSE 'completed' END)",
                            "assignee_id": f"(CASE WHEN {in_a} AND g % 20 = 7 THEN {user_id} END)",
                            "due_date": "c.due_date",
                            "created_at": "c.submitted_at",
                            "completed_at": f"(CASE WHEN {is_open} THEN NULL ELSE now() END)",
                        },
                        f"{src} JOIN cases_case c ON c.number = 'BI' || lpad(g::text, 12, '0') "
                        "JOIN workflow_workflowinstance w ON w.case_id = c.id",
                    )
                )
            print(f"  {end:,}/{total:,} cases ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
            start = end + 1
        # A bulk-loaded table has no visibility map yet: index-only scans would visit the heap.
        for table in ("workflow_task", "workflow_workflowinstance", "cases_case", "cases_application"):
            cur.execute(f"VACUUM ANALYZE {table}")
    return time.perf_counter() - t0


def pct(samples: list[float]) -> dict:
    s = sorted(samples)

    def at(p: float) -> float:
        return round(s[min(len(s) - 1, int(round(p * len(s))) - 1)], 1)

    return {"p50_ms": round(statistics.median(s), 1), "p95_ms": at(0.95), "p99_ms": at(0.99), "n": len(s)}


FILTERS = {  # label -> query string of the page (the item code is filled in at run time)
    "all": "",
    "step=review": "step=review",
    "step=decide": "step=decide",
    "state=overdue": "state=overdue",
    "state=due_soon": "state=due_soon",
    "item": "item={item}",
}
ORDERS = ("due", "new")
# An inbox query must read indexes only (no sequential scan, no bitmap of candidates) and sort
# no more than a few pages of rows: PostgreSQL may read a narrow filter's index range (due soon:
# ~0.4 % of the tasks) and sort it rather than walk the order's index, which is cheaper.
NOT_A_WALK = ("Seq Scan", "Bitmap")
SORT_BOUND = 2000


def _sorted_rows(plan: str) -> int:
    """The most rows any Sort node of the plan reads (from the scan under it)."""
    lines, most = plan.splitlines(), 0
    for i, ln in enumerate(lines):
        if re.match(r"\s*(->\s+)?(Incremental )?Sort\s", ln):
            scan = next((x for x in lines[i + 1 :] if "Scan" in x), "")
            m = re.search(r"actual time=\S+ rows=(\d+) loops=(\d+)", scan)
            most = max(most, int(m.group(1)) * int(m.group(2)) if m else 0)
    return most


def _positions(user, filters_of: dict) -> dict[str, list]:
    """Every task of the inbox under each filter as (due_date, created_at, id): random cursor
    positions, i.e. pages at random depths as a next or previous link would reach them."""
    from yiwang.workflow import selectors as wf

    out = {}
    for label, f in filters_of.items():
        keys = []
        for qs in wf.inbox_scopes(user):
            keys += list(wf._filtered(qs, f).values_list("due_date", "created_at", "id"))
        out[label] = keys
    return out


def _plans(client, urls: list[str]) -> list[dict]:
    """EXPLAIN (ANALYZE, BUFFERS) of every inbox query the page runs for each URL: the task
    walks, the capped counts and the cases of the page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    out = []
    for url in urls:
        with CaptureQueriesContext(connection) as cap:
            assert client.get(url).status_code == 200
        for q in cap.captured_queries:
            sql = q["sql"]
            if "workflow_task" not in sql and '"cases_case"' not in sql:
                continue
            with connection.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plan = "\n".join(r[0] for r in cur.fetchall())
            kind = "count" if "COUNT(" in sql.upper() else ("cases" if "workflow_task" not in sql else "page")
            out.append(
                {
                    "url": url,
                    "kind": kind,
                    "sql": sql,
                    "plan": plan,
                    "indexes": sorted(set(re.findall(r" using (\w+)", plan))),
                    "sorted_rows": _sorted_rows(plan),
                    "walk": not any(w in plan for w in NOT_A_WALK) and _sorted_rows(plan) <= SORT_BOUND,
                    "ms": float(re.search(r"Execution Time: ([\d.]+)", plan).group(1)),
                }
            )
    return out


def block(r: dict) -> str:
    """The figures of docs/benchmarks.md's inbox latency block."""

    def row(name: str, p: dict | None, target: str = "") -> str:
        if not p:
            return f"| {name} | not measured | | | |"
        return f"| {name} | {p['p50_ms']} ms | {p['p95_ms']} ms | {p['p99_ms']} ms | {target} |"

    page = r["workbench_page"]
    ok = "met" if page["p95_ms"] <= r["target_p95_ms"] else "NOT met"
    plans = r["plans"]
    walks = sum(p["walk"] for p in plans)
    per_page: dict[str, float] = {}
    for p in plans:
        per_page[p["url"]] = per_page.get(p["url"], 0.0) + p["ms"]
    return "\n".join(
        [
            f"- run: {bench_report.stamp()}; load average {', '.join(map(str, r['load_start']))} at the start, "
            f"{', '.join(map(str, r['load_end']))} at the end"
            + (f"; this process at nice {r['nice']}" if r["nice"] else ""),
            f"- {r['cases']:,} cases in {r['database']}, {r['open_tasks_in_department']:,} open in the reader's "
            f"department; {r['requests']} page requests through the test client, one process",
            "",
            "| what | p50 | p95 | p99 | target |",
            "|---|---|---|---|---|",
            row("`/workbench/` page, all requests", page, f"p95 ≤ {r['target_p95_ms']:g} ms ({ok})"),
            row("  of which CPU time of the process", r["workbench_cpu"]),
            row("  of which in `cursor.execute`", r["workbench_db"]),
            *(row(f"  {k}", p) for k, p in r["workbench_by_depth"].items()),
            row("`inbox_slice` + `inbox_count` alone", r["selector"]),
            row("baseline: hello-world view, test client, same run", r["hello"]),
            "",
            f"EXPLAIN (ANALYZE, BUFFERS) of every inbox query of page 1, a next and a previous link for each "
            f"filter and order: {walks} of {len(plans)} plans are index walks (no sequential or bitmap scan, no "
            f"sort of more than {SORT_BOUND} rows); largest sort "
            f"{max((p['sorted_rows'] for p in plans), default=0)} rows; server time of a page's inbox queries "
            f"median {statistics.median(per_page.values() or [0]):.2f} ms, max "
            f"{max(per_page.values(), default=0.0):.2f} ms.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument(
        "--no-migrate",
        action="store_true",
        help="use the kept database's schema as it is (another session's unfinished migrations in the tree)",
    )
    parser.add_argument("--plans", help="write every EXPLAIN ANALYZE (url, sql, plan) to this JSON file")
    parser.add_argument("--fill-only", action="store_true", help="make the database and stop")
    parser.add_argument("--db", help="use and keep this database (created and filled when missing)")
    parser.add_argument("--write-docs", action="store_true", help="replace the block in docs/benchmarks.md")
    args = parser.parse_args()
    if args.fill_only and not args.db:
        parser.error("--fill-only needs --db NAME: a database made without it is dropped at the end")
    load_start = [round(x, 2) for x in os.getloadavg()]
    _env()
    with (
        scratch.pg_database("inbox", args.db) as database_url,
        scratch.data_dir("inbox", args.db) as data_dir,
    ):
        os.environ.update(DATABASE_URL=database_url, YIWANG_DATA_DIR=data_dir)
        report = run(args, load_start)
    if report is None:
        return
    bench_report.publish("inbox_latency", block(report), write_docs=args.write_docs)
    print(json.dumps({k: v for k, v in report.items() if k != "plans"}, ensure_ascii=False))
    if not all(p["walk"] for p in report["plans"]):
        sys.exit(1)


def run(args, load_start: list[float]) -> dict | None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from yiwang.cases.models import Case
    from yiwang.catalog.models import ServiceItem
    from yiwang.workbench import selectors as wb
    from yiwang.workflow import selectors as wf
    from yiwang.workflow.models import Task

    if not args.no_migrate:
        call_command("migrate", verbosity=0)
    user = _world()
    _template_rows(user)
    fill_s = fill(args.cases, args.open)
    if args.fill_only:
        print(f"filled in {fill_s:.0f} s")
        return None

    a_item = ServiceItem.objects.get(department__name="基准局A")
    open_in_a = Task.objects.filter(department_id=a_item.department_id, state="open").count()
    cases_total = Case.objects.count()
    today = timezone.localdate()
    params = {  # label -> (step, item, state) as the page reads them
        label: tuple(
            dict(x.split("=") for x in q.format(item=a_item.code).split("&") if x).get(k, "")
            for k in ("step", "item", "state")
        )
        for label, q in FILTERS.items()
    }
    filters = {label: wb.inbox_filters(*params[label], today) for label in FILTERS}
    positions = _positions(user, filters)
    rng = random.Random(args.seed)

    def pick(label: str, order: str) -> tuple[str, str]:
        """A page URL: page 1 or a next/previous link at a random depth of the filtered list."""
        q = FILTERS[label].format(item=a_item.code)
        q = "&".join(x for x in (q, "order=new" if order == "new" else "") if x)
        keys = positions[label]
        if rng.random() < 0.2 or not keys:
            return "page 1", f"/workbench/?{q}"
        due, created, pk = rng.choice(keys)
        direction = "after" if rng.random() < 0.75 else "before"
        key = wf.InboxKey(due, created, pk)
        count, counted_for = min(len(keys), wb.COUNT_CAP), wb.filters_key(*params[label])
        cursor = wb.encode_cursor(order, direction, key, rng.randint(2, 2000), count, counted_for)
        depth = "next link, random depth" if direction == "after" else "previous link, random depth"
        return depth, f"/workbench/?{q}{'&' if q else ''}{urlencode({'cursor': cursor})}"

    # 1. The SQL of a page alone: the selectors the page calls, at random depths.
    samples = []
    for i in range(args.requests // 2):
        label, order = rng.choice(list(FILTERS)), rng.choice(ORDERS)
        keys = positions[label]
        key = wf.InboxKey(*rng.choice(keys)) if keys and i % 5 else None
        t = time.perf_counter()
        wf.inbox_slice(user, order=order, after=key, limit=wb.PER_PAGE, filters=filters[label])
        wf.inbox_count(user, cap=wb.COUNT_CAP, filters=filters[label])
        samples.append((time.perf_counter() - t) * 1000)
    selector = pct(samples)

    # 2. The workbench page through the test client.
    setup_test_environment()
    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    client.force_login(user)
    for label in FILTERS:  # warm: templates, calendar cache, each index's first pages
        for order in ORDERS:
            assert client.get(pick(label, order)[1]).status_code == 200
    all_pages: list[float] = []
    cpu_pages: list[float] = []  # this process's CPU time: what the page costs without the waits
    db_pages: list[float] = []  # time in cursor.execute (PostgreSQL and the round trip)
    db_now: list[float] = []

    def timed(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            db_now.append((time.perf_counter() - t0) * 1000)

    by_depth: dict[str, list[float]] = {}
    by_order: dict[str, list[float]] = {o: [] for o in ORDERS}
    by_filter: dict[str, list[float]] = {label: [] for label in FILTERS}
    for _ in range(args.requests):
        label, order = rng.choice(list(FILTERS)), rng.choice(ORDERS)
        depth, url = pick(label, order)
        db_now.clear()
        with connection.execute_wrapper(timed):
            t, c = time.perf_counter(), time.process_time()
            r = client.get(url)
            ms, cpu_ms = (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000
        cpu_pages.append(cpu_ms)
        db_pages.append(sum(db_now))
        assert r.status_code == 200 and b"wb-inbox" in r.content, (url, r.status_code)
        assert "翻页链接无效".encode() not in r.content, url
        all_pages.append(ms)
        by_depth.setdefault(depth, []).append(ms)
        by_order[order].append(ms)
        by_filter[label].append(ms)

    hello = []
    for _ in range(max(args.requests, 200)):
        t = time.perf_counter()
        client.get("/hello/")
        hello.append((time.perf_counter() - t) * 1000)

    # 3. EXPLAIN ANALYZE of every inbox query of page 1, a next link and a previous link.
    urls = []
    for label in FILTERS:
        for order in ORDERS:
            q = FILTERS[label].format(item=a_item.code)
            q = "&".join(x for x in (q, "order=new" if order == "new" else "") if x)
            keys = positions[label]
            urls.append(f"/workbench/?{q}")
            if keys:
                mid = wf.InboxKey(*keys[len(keys) // 2])
                for direction in ("after", "before"):
                    count, counted_for = min(len(keys), wb.COUNT_CAP), wb.filters_key(*params[label])
                    cursor = wb.encode_cursor(order, direction, mid, 1000, count, counted_for)
                    urls.append(f"/workbench/?{q}{'&' if q else ''}{urlencode({'cursor': cursor})}")
    plans = _plans(client, urls)
    bad = [p for p in plans if not p["walk"]]
    if args.plans:
        Path(args.plans).write_text(json.dumps(plans, ensure_ascii=False, indent=1), encoding="utf-8")

    report = {
        "database": "PostgreSQL {}.{}".format(
            *divmod(connection.cursor().connection.info.server_version, 10000)
        ),
        "cases": cases_total,
        "open_tasks_in_department": open_in_a,
        "fill_seconds": round(fill_s, 1),
        "requests": args.requests,
        "selector": selector,
        "workbench_page": pct(all_pages),
        "workbench_cpu": pct(cpu_pages),
        "workbench_db": pct(db_pages),
        "workbench_by_depth": {k: pct(v) for k, v in sorted(by_depth.items())},
        "workbench_by_order": {k: pct(v) for k, v in by_order.items() if v},
        "workbench_by_filter": {k: pct(v) for k, v in by_filter.items() if v},
        "hello": pct(hello),
        "target_p95_ms": TARGET_P95_MS,
        "load_start": load_start,
        "nice": os.nice(0),
        "load_end": [round(x, 2) for x in os.getloadavg()],
        "plans": plans,
    }
    print(f"cases {cases_total:,}; open tasks in the department {open_in_a:,}; fill {fill_s:.0f} s")
    print(f"load average at start {load_start}, at end {report['load_end']}")
    print(f"/workbench/ page (test client): {report['workbench_page']}  (hello {report['hello']})")
    print(
        f"    CPU time of the process: {report['workbench_cpu']}; in cursor.execute: {report['workbench_db']}"
    )
    for name in ("workbench_by_depth", "workbench_by_order", "workbench_by_filter"):
        for k, s in report[name].items():
            print(f"    {k}: {s}")
    print(f"selectors (inbox_slice + inbox_count): {selector}")
    print(f"plans: {len(plans)}, index walks: {len(plans) - len(bad)}")
    for p in bad:
        print(f"NOT AN INDEX WALK: {p['url']}\n{p['sql']}\n{p['plan']}")
    connection.close()
    return report


if __name__ == "__main__":
    main()
