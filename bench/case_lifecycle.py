"""Full case lifecycle throughput: draft, one upload, submit, accept, review, decide, deliver
(electronic), close — the services and action classes the pages call (not part of the test suite).

    YIWANG_DATA_DIR=/tmp/lc .venv/bin/python bench/case_lifecycle.py [--cases 300]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yiwang_bench YIWANG_DATA_DIR=/tmp/lc \\
        .venv/bin/python bench/case_lifecycle.py

Migrates the scratch database when needed and builds a small world (one county, one published
promise item, an applicant, a clerk, an approver, a head). Notices (PDFs) and outbox sending are
left to background workers in production; here they are counted but not run (their jobs are
queued after each commit), and one notice is timed separately. Reports cases per second, the
share of time in the workflow engine (SpiffWorkflow load/run/save in ``workflow.engine``) and
the queries per case.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
os.environ.setdefault("YIWANG_DATA_DIR", "/tmp/yiwang-lifecycle-bench")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from yiwang.cases import actions, notices, services  # noqa: E402
from yiwang.identity.models import Role, StaffRole  # noqa: E402
from yiwang.workflow import engine  # noqa: E402

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
queued: dict[str, int] = {"notices": 0}


def world():
    from tests import factories

    from yiwang.catalog import services as catalog
    from yiwang.regions.models import Region

    tag = uuid.uuid4().hex[:6]
    from yiwang.regions.models import RegionLevel

    prov, _ = Region.objects.get_or_create(
        code="990000", defaults={"name": "基准省", "level": RegionLevel.PROVINCE}
    )
    county = Region.objects.create(
        code=f"99{int(tag, 16) % 10000:04d}", name=f"基准区{tag}", level=RegionLevel.COUNTY, parent=prov
    )
    dept = factories.department(county, code=str(int(tag, 16) % 1000).zfill(3), name=f"基准局{tag}")
    std = factories.standard_item(f"01{int(tag, 16) % 10**9:09d}", name=f"基准事项{tag}")
    item = factories.implementation(std, dept, promised_limit_days=10)
    catalog.publish(item)
    item.refresh_from_db()
    User = get_user_model()
    # A plain account (no registry check): the form's name and phone are typed in.
    applicant = User.objects.create_user(username=f"bench{tag}")
    staff = {}
    for role in (Role.COUNTER_CLERK, Role.APPROVER, Role.DEPARTMENT_HEAD):
        u = User.objects.create_user(username=f"{role}{tag}")
        StaffRole.objects.create(user=u, role=role, department=dept)
        staff[role] = u
    return item, applicant, staff


def one_case(item, applicant, staff):
    app = services.start_application(applicant, item)
    services.save_draft(
        app, user=applicant, data={"applicant_name": "基准申请人", "phone": "13800000000", "reason": "基准"}
    )
    for m in services.required_materials(app):
        services.upload_material(
            app, requirement=m["name"], uploaded=SimpleUploadedFile("a.pdf", PDF), user=applicant
        )
    case = services.submit(app, user=applicant)
    case = actions.Accept(case, staff[Role.COUNTER_CLERK]).run()
    case = actions.Review(case, staff[Role.APPROVER], decision="pass").run()
    case = actions.Decide(case, staff[Role.DEPARTMENT_HEAD], decision="approve").run()
    case = actions.Deliver(case, staff[Role.COUNTER_CLERK], method="electronic").run()
    return actions.Close(case, staff[Role.COUNTER_CLERK]).run()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=300)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)

    # Notices and outbox sending run on workers: queue, do not run, here.
    def queue_notice(case, kind):
        queued["notices"] += 1

    services.issue_notice_after_commit = queue_notice
    actions.services.issue_notice_after_commit = queue_notice
    import yiwang.cases.tasks as tasks

    tasks.send_outbox.delay = lambda *a, **k: None

    engine_time = [0.0]
    for name in ("load", "dump", "complete", "new_workflow", "ready_user_tasks"):
        fn = getattr(engine, name)

        def timed(*a, _fn=fn, **k):
            t = time.perf_counter()
            try:
                return _fn(*a, **k)
            finally:
                engine_time[0] += time.perf_counter() - t

        setattr(engine, name, timed)

    item, applicant, staff = world()
    one_case(item, applicant, staff)  # warm caches (calendar, process definition)
    engine_time[0] = 0.0
    started = time.perf_counter()
    last = None
    for _ in range(args.cases):
        last = one_case(item, applicant, staff)
    elapsed = time.perf_counter() - started
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(10):
            one_case(item, applicant, staff)
    print(f"database: {connection.vendor}; cases: {args.cases}; last: {last.number} ({last.state})")
    print(
        f"lifecycle throughput: {args.cases / elapsed:.1f} cases/s ({elapsed / args.cases * 1000:.1f} ms per case)"
    )
    print(
        f"workflow engine share: {engine_time[0] / elapsed * 100:.1f}% ({engine_time[0] / args.cases * 1000:.2f} ms per case)"
    )
    print(f"queries per case: {len(ctx.captured_queries) / 10:.0f}; notices queued: {queued['notices']}")
    t = time.perf_counter()
    notices.issue(last, "decision")
    print(f"one decision notice (PDF, subset font): {(time.perf_counter() - t) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
