"""Case lifecycle throughput on PostgreSQL (not part of the test suite).

    BENCH_PG_URL=postgres://postgres@127.0.0.1:5432 \
        .venv/bin/python bench/case_lifecycle.py [--workers 2] [--cases 600] [--seconds 30] [--profile]
        [--db NAME] [--write-docs]

Each worker first prepares ``--cases`` drafts the way an applicant does (draft, form, one upload
per required material; timed apart and reported as the applicant side), then, all workers
together, runs submit, accept, review (pass), decide (approve), deliver (electronic), close on
them: the real services and action classes the pages call, driven in-process by ``--workers``
processes, each with its own database connection.

The database is created for the run on the server ``BENCH_PG_URL`` names, filled with
``generate-province --items 2000 --no-bundles`` and the demo accounts, and dropped at the end;
``--db NAME`` uses (and keeps) that database instead, so later runs skip the fill
(bench/scratch.py). Notices (PDFs) and outbox messages are queued to a Redis server the run
starts for itself, as in production, and not run; one decision notice is timed on its own.

Prints cases/s beside two baselines measured in the same run (Django's hello-world view through
the test client, and a bare PostgreSQL INSERT+SELECT round trip, both single process) and the
share of wall time spent in the workflow engine (SpiffWorkflow load/run/dump), in SQL
(``connection.execute_wrapper``: server time plus round trip) and in the rest. The figures go to
var/bench/results/case_lifecycle.md, and with ``--write-docs`` into docs/benchmarks.md
(bench/report.py). The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import report as bench_report  # noqa: E402
import scratch  # noqa: E402

TARGET_CASES_PER_SECOND = 50.0


def _env() -> None:
    """What every process of the run shares; DATABASE_URL, REDIS_URL and YIWANG_DATA_DIR (the
    encryption keys the database's personal data is written with) are set by ``scratch`` in the
    parent and inherited by the workers."""
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    os.environ["DJANGO_SETTINGS_MODULE"] = "yiwang.settings"
    sys.path.insert(0, str(ROOT))


def _setup_django():
    _env()
    import django

    django.setup()


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def prepare() -> dict:
    """Province, demo staff and applicant (once per database); returns ids the workers use."""
    from django.core.management import call_command

    from yiwang.cases import demo
    from yiwang.catalog.models import ServiceItem

    call_command("migrate", verbosity=0)
    if not ServiceItem.objects.filter(current_version__isnull=False).exists():
        call_command("generate_province", items=2000, no_bundles=True, no_progress=True, verbosity=0)
    from django.contrib.auth import get_user_model

    # Staff of the demo item's department and the demo applicant (a second call to
    # create_demo_cases fails in create_demo_accounts, so only once per database).
    if not get_user_model().objects.filter(username=demo.APPLICANT).exists():
        demo.create_demo_cases()
    item = demo._item()
    return {"item": item.pk, "department": item.department.name, "item_name": item.code}


class Timers:
    def __init__(self) -> None:
        self.engine = 0.0
        self.sql = 0.0
        self.queries = 0

    def install(self) -> None:
        from django.db import connection

        from yiwang.workflow import engine

        for name in ("load", "dump", "complete", "new_workflow", "ready_user_tasks"):
            fn = getattr(engine, name)

            def timed(*a, _fn=fn, **k):
                t = time.perf_counter()
                try:
                    return _fn(*a, **k)
                finally:
                    self.engine += time.perf_counter() - t

            setattr(engine, name, timed)

        def wrapper(execute, sql, params, many, context):
            t = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                self.sql += time.perf_counter() - t
                self.queries += 1

        connection.execute_wrappers.append(wrapper)

    def reset(self) -> None:
        self.engine = self.sql = 0.0
        self.queries = 0


def backend_cpu():
    """A function returning the CPU seconds (user + system) used so far by this process's
    PostgreSQL backend, read from /proc (the server runs on this machine); None when it cannot
    be read (a remote server)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    path = Path(f"/proc/{pid}/stat")
    tick = os.sysconf("SC_CLK_TCK")

    def read() -> float | None:
        try:
            fields = path.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / tick

    return read if read() is not None else (lambda: None)


def draft(item, applicant):
    """The applicant's side before submission: a draft with its form and one upload per
    required material (each upload its own transaction, as in the pages)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from yiwang.cases import services

    app = services.start_application(applicant, item)
    services.save_draft(
        app, user=applicant, data={**app.data, "reason": "基准测试"}, delivery_method="electronic"
    )
    for m in services.required_materials(app):
        services.upload_material(
            app, requirement=m["name"], uploaded=SimpleUploadedFile("a.pdf", PDF), user=applicant
        )
    return app


def lifecycle(app, applicant, staff) -> str:
    """What the target names: submit, accept, review, decide, deliver, close."""
    from yiwang.cases import actions, services

    case = services.submit(app, user=applicant)
    case = actions.Accept(case, staff["clerk"]).run()
    case = actions.Review(case, staff["approver"], decision="pass").run()
    case = actions.Decide(case, staff["dept_head"], decision="approve").run()
    case = actions.Deliver(case, staff["clerk"], method="electronic").run()
    case = actions.Close(case, staff["clerk"]).run()
    return case.state


def one_case(item, applicant, staff) -> str:
    return lifecycle(draft(item, applicant), applicant, staff)


def _actors(item_id: int):
    from django.contrib.auth import get_user_model

    from yiwang.cases import demo
    from yiwang.catalog.models import ServiceItem

    User = get_user_model()
    item = ServiceItem.objects.select_related("department", "region", "current_version").get(pk=item_id)
    staff = {u: User.objects.get(username=u) for u, _r, _l in demo.STAFF}
    return item, User.objects.get(username=demo.APPLICANT), staff


def worker(idx: int, item_id: int, cases: int, seconds: float, barrier, out) -> None:
    """Prepare ``cases`` drafts (timed apart: the applicant's side), wait for the others, then
    run submit→close on them until they or ``seconds`` run out (the measured lifecycle)."""
    _setup_django()
    timers = Timers()
    timers.install()
    try:
        item, applicant, staff = _actors(item_id)
        one_case(item, applicant, staff)  # warm caches (process spec, calendar, templates)
        timers.reset()
        t0, c0 = time.perf_counter(), time.process_time()
        drafts = [draft(item, applicant) for _ in range(cases)]
        prep = {
            "elapsed": time.perf_counter() - t0,
            "cpu": time.process_time() - c0,
            "queries": timers.queries,
            "n": len(drafts),
        }
    except BaseException:
        barrier.abort()  # the parent stops instead of waiting for this worker
        raise
    barrier.wait()
    timers.reset()
    pg_cpu = backend_cpu()
    pg0 = pg_cpu()
    started, cpu0 = time.perf_counter(), time.process_time()
    n, states, errors = 0, {}, 0
    for app in drafts:
        if time.perf_counter() - started >= seconds:
            break
        try:
            s = lifecycle(app, applicant, staff)
            states[s] = states.get(s, 0) + 1
            n += 1
        except Exception as exc:  # a lost race must show up in the figures, not stop the run
            errors += 1
            if errors <= 3:
                print(f"worker {idx}: {type(exc).__name__}: {exc}", file=sys.stderr)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu0
    pg1 = pg_cpu()
    out.put(
        {
            "cpu": cpu,
            "pg_cpu": (pg1 - pg0) if pg0 is not None and pg1 is not None else None,
            "cases": n,
            "elapsed": elapsed,
            "engine": timers.engine,
            "sql": timers.sql,
            "queries": timers.queries,
            "states": states,
            "errors": errors,
            "prep": prep,
        }
    )


def profile(item_id: int, cases: int) -> None:
    import cProfile
    import pstats

    item, applicant, staff = _actors(item_id)
    one_case(item, applicant, staff)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(cases):
        one_case(item, applicant, staff)
    prof.disable()
    pstats.Stats(prof).sort_stats("cumulative").print_stats(45)


def hello_rps(seconds: float = 2.0) -> float:
    from django.test import Client

    c = Client()
    c.get("/hello/")
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        c.get("/hello/")
        n += 1
    return n / (time.perf_counter() - t0)


def pg_roundtrip_rate(seconds: float = 2.0) -> float:
    """INSERT one row + SELECT it back, autocommit, one connection (per second)."""
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE bench_rt (id serial primary key, v text)")
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            rid = conn.execute("INSERT INTO bench_rt (v) VALUES ('x') RETURNING id").fetchone()[0]
            conn.execute("SELECT v FROM bench_rt WHERE id = %s", [rid]).fetchone()
            n += 1
        return n / (time.perf_counter() - t0)


def notice_ms(item_id: int) -> float:
    from yiwang.cases import notices
    from yiwang.cases.models import Case

    case = Case.objects.filter(item_id=item_id, state="closed").order_by("-pk").first()
    t = time.perf_counter()
    notices.issue(case, "decision")
    return (time.perf_counter() - t) * 1000


def block(r: dict) -> str:
    """The figures of docs/benchmarks.md's case lifecycle block."""
    met = "met" if r["cases_per_s"] >= r["target"] else "NOT met"
    pg_cpu = r["postgres_cpu_ms_per_case"]
    return "\n".join(
        [
            f"- run: {bench_report.stamp()}; load average {', '.join(map(str, r['load_avg'][:3]))} at the "
            f"start, {', '.join(map(str, r['load_avg'][3:]))} at the end",
            f"- {r['workers']} worker processes, {r['database']} on the same machine, "
            f"the demo item {r['item']}",
            "",
            "| figure | value | target |",
            "|---|---|---|",
            f"| lifecycle throughput (submit → close) | {r['cases_per_s']} cases/s ({r['cases']} cases in "
            f"{r['seconds']} s, {r['errors']} errors) | ≥ {r['target']:g} cases/s ({met}) |",
            f"| baseline: hello-world view, test client, 1 process | {r['hello_rps']:g} req/s | |",
            f"| cases/s ÷ hello | {r['ratio_to_hello']} | |",
            f"| baseline: PostgreSQL INSERT+SELECT, 1 connection | {r['pg_roundtrip_per_s']:g} round trips/s | |",
            f"| CPU per case: worker + its PostgreSQL backend | {r['python_cpu_ms_per_case']} + "
            f"{pg_cpu if pg_cpu is not None else '?'} ms | |",
            f"| SQL statements per case | {r['queries_per_case']} | |",
            f"| wall time per case per worker: engine / SQL / rest | {r['ms_per_case_per_worker']} ms: "
            f"{r['engine_share']} / {r['sql_share']} / {r['rest_share']} % | |",
            f"| applicant side before submission (draft, form, uploads) | {r['draft_per_s']} drafts/s, "
            f"{r['draft_cpu_ms']} ms CPU, {r['draft_queries']} statements each | |",
            f"| whole path from an empty draft (both sides in turn) | {r['full_path_per_s']} cases/s | |",
            f"| one decision notice PDF (worker job) | {r['notice_pdf_ms']:g} ms | |",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=30.0, help="at most this long for the lifecycle")
    parser.add_argument("--cases", type=int, default=600, help="drafts prepared per worker")
    parser.add_argument("--profile", action="store_true", help="cProfile 50 cases in one process and stop")
    parser.add_argument("--db", help="use and keep this database (created when missing) instead of a new one")
    parser.add_argument("--write-docs", action="store_true", help="replace the block in docs/benchmarks.md")
    args = parser.parse_args()
    _env()
    with (
        scratch.pg_database("cases", args.db) as database_url,
        scratch.data_dir("cases", args.db) as data_dir,
        scratch.own_redis() as redis_url,
    ):
        os.environ.update(DATABASE_URL=database_url, YIWANG_DATA_DIR=data_dir, REDIS_URL=redis_url)
        report = run(args)
    if report is not None:
        bench_report.publish("case_lifecycle", block(report), write_docs=args.write_docs)
        print(json.dumps(report, ensure_ascii=False))


def run(args) -> dict | None:
    _setup_django()
    from django.db import connection

    info = prepare()
    if args.profile:
        profile(info["item"], 50)
        return None
    hello = hello_rps()
    roundtrip = pg_roundtrip_rate()
    connection.close()

    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(args.workers + 1), ctx.Queue()
    procs = [
        ctx.Process(target=worker, args=(i, info["item"], args.cases, args.seconds, barrier, out))
        for i in range(args.workers)
    ]
    for p in procs:
        p.start()
    try:
        barrier.wait(timeout=900)
        load_before = os.getloadavg()
        results = [out.get(timeout=args.seconds + 300) for _ in procs]
        load_after = os.getloadavg()
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
    hello_after = hello_rps()
    cases = sum(r["cases"] for r in results)
    wall = max(r["elapsed"] for r in results)
    busy = sum(r["elapsed"] for r in results)
    engine_s = sum(r["engine"] for r in results)
    sql_s = sum(r["sql"] for r in results)
    rate = cases / wall
    prep_n = sum(r["prep"]["n"] for r in results)
    prep_rate = prep_n / max(r["prep"]["elapsed"] for r in results)
    prep_cpu_ms = sum(r["prep"]["cpu"] for r in results) / max(prep_n, 1) * 1000
    prep_queries = sum(r["prep"]["queries"] for r in results) / max(prep_n, 1)
    # Both sides in turn on the same workers: the whole path from an empty draft to closed.
    full_rate = 1 / (1 / rate + 1 / prep_rate) if rate and prep_rate else 0.0
    try:
        pdf_ms = notice_ms(info["item"])
    except Exception as exc:  # the PDF is reported, not required
        print(f"notice timing failed: {exc}", file=sys.stderr)
        pdf_ms = float("nan")
    hello_med = statistics.mean([hello, hello_after])
    report = {
        "database": "PostgreSQL {}.{}".format(
            *divmod(connection.cursor().connection.info.server_version, 10000)
        ),
        "workers": args.workers,
        "seconds": round(wall, 1),
        "cases": cases,
        "errors": sum(r["errors"] for r in results),
        "cases_per_s": round(rate, 1),
        "ms_per_case_per_worker": round(busy / max(cases, 1) * 1000, 1),
        "engine_share": round(engine_s / busy * 100, 1),
        "sql_share": round(sql_s / busy * 100, 1),
        "rest_share": round((busy - engine_s - sql_s) / busy * 100, 1),
        "engine_ms_per_case": round(engine_s / max(cases, 1) * 1000, 2),
        "sql_ms_per_case": round(sql_s / max(cases, 1) * 1000, 2),
        "queries_per_case": round(sum(r["queries"] for r in results) / max(cases, 1), 1),
        "python_cpu_ms_per_case": round(sum(r["cpu"] for r in results) / max(cases, 1) * 1000, 1),
        "postgres_cpu_ms_per_case": (
            round(sum(r["pg_cpu"] for r in results) / max(cases, 1) * 1000, 1)
            if all(r["pg_cpu"] is not None for r in results)
            else None
        ),
        "draft_per_s": round(prep_rate, 1),
        "draft_cpu_ms": round(prep_cpu_ms, 1),
        "draft_queries": round(prep_queries, 1),
        "full_path_per_s": round(full_rate, 1),
        "hello_rps": round(hello_med, 0),
        "pg_roundtrip_per_s": round(roundtrip, 0),
        "ratio_to_hello": round(rate / hello_med, 4),
        "notice_pdf_ms": round(pdf_ms, 0),
        "load_avg": [round(x, 2) for x in (*load_before, *load_after)],
        "target": TARGET_CASES_PER_SECOND,
        "item": info["item_name"],
    }
    print(
        f"lifecycle: {cases} cases in {wall:.1f} s by {args.workers} workers = {rate:.1f} cases/s "
        f"(target ≥ {TARGET_CASES_PER_SECOND:.0f}: {'met' if rate >= TARGET_CASES_PER_SECOND else 'NOT met'}); "
        f"errors {report['errors']}"
    )
    print(
        f"time per case (summed over workers): {report['ms_per_case_per_worker']} ms — engine {report['engine_share']}% "
        f"({report['engine_ms_per_case']} ms), SQL {report['sql_share']}% ({report['sql_ms_per_case']} ms, "
        f"{report['queries_per_case']} queries), rest {report['rest_share']}%"
    )
    print(
        f"baselines: hello-world {hello_med:.0f} req/s (test client, 1 process); PostgreSQL INSERT+SELECT "
        f"{roundtrip:.0f}/s (1 connection); cases/s ÷ hello = {report['ratio_to_hello']}"
    )
    print(
        f"applicant side (draft + form + one upload per material), prepared before the clock: "
        f"{prep_rate:.1f} drafts/s, {prep_cpu_ms:.1f} ms CPU and {prep_queries:.1f} queries each; "
        f"whole path from an empty draft: {full_rate:.1f} cases/s"
    )
    print(f"one decision notice PDF: {pdf_ms:.0f} ms (runs on workers)")
    print(f"load average before/after: {report['load_avg']}")
    print(
        f"CPU time per case: worker processes {report['python_cpu_ms_per_case']} ms, their PostgreSQL "
        f"backends {report['postgres_cpu_ms_per_case']} ms (/proc/<pid>/stat)"
    )
    connection.close()
    return report


if __name__ == "__main__":
    main()
