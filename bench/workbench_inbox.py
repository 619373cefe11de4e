"""Workbench inbox latency with many open tasks in one department (not part of the test suite).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yiwang_inbox_bench \
        .venv/bin/python bench/workbench_inbox.py --open 100000 --others 100000 --requests 200

Creates (once; kept for later runs) a department with ``--open`` open review tasks (cases
accepted, due dates spread over ±60 days) and ``--others`` open tasks in another department,
then times whole inbox pages through the Django test client (middleware, session, template
included) for an approver of the first department: the default page, page 20, and the filters
overdue / due soon / step / item. Prints p50 and p95 per page and the SQL plan of the page query.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
os.environ.setdefault("YIWANG_DATA_DIR", "/tmp/yiwang-inbox-bench")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from yiwang.cases.models import Application, Case, CaseState  # noqa: E402
from yiwang.catalog import services as catalog  # noqa: E402
from yiwang.catalog.models import ServiceItem  # noqa: E402
from yiwang.identity.models import Role, StaffRole  # noqa: E402
from yiwang.workflow.models import Task, WorkflowInstance  # noqa: E402
from yiwang.workflow.services import ensure_templates  # noqa: E402

BATCH = 5000


def _world():
    from tests import factories

    item = ServiceItem.objects.filter(code__isnull=False, current_version__isnull=False).first()
    User = get_user_model()
    if item is not None and User.objects.filter(username="bench_approver").exists():
        other = (
            ServiceItem.objects.exclude(department=item.department)
            .filter(current_version__isnull=False)
            .first()
        )
        return item, other, User.objects.get(username="bench_approver")
    regions = factories.region_tree()
    dept = factories.department(regions["county"])
    other_dept = factories.department(regions["other_city"])
    std = factories.standard_item()
    item = factories.implementation(std, dept, promised_limit_days=20)
    catalog.publish(item)
    other = factories.implementation(std, other_dept, promised_limit_days=20)
    catalog.publish(other)
    item.refresh_from_db()
    other.refresh_from_db()
    user = User.objects.create_user("bench_approver", password="bench-Approver-2026")
    StaffRole.objects.create(user=user, role=Role.APPROVER, department=dept)
    return item, other, user


def _fill(item: ServiceItem, applicant, count: int, prefix: str) -> None:
    have = Task.objects.filter(department=item.department, state="open").count()
    if have >= count:
        return
    definition = ensure_templates()["promise"]
    today = timezone.localdate()
    now = timezone.now()
    version = item.current_version
    made = have
    while made < count:
        n = min(BATCH, count - made)
        with transaction.atomic():
            apps = Application.objects.bulk_create(
                Application(
                    applicant=applicant,
                    item_version=version,
                    form_schema={},
                    data={},
                    idempotency_key=f"{prefix}{made + i}",
                    submitted_at=now,
                )
                for i in range(n)
            )
            cases = Case.objects.bulk_create(
                Case(
                    number=f"{prefix}{made + i:012d}",
                    check_code="BENCH1",
                    application=a,
                    item=item,
                    item_version=version,
                    item_name=version.name,
                    region=item.region,
                    department=item.department,
                    applicant=applicant,
                    applicant_name="测试申请人",
                    state=CaseState.UNDER_REVIEW,
                    submitted_at=now,
                    accepted_on=today,
                    limit_days=20,
                    due_date=today + dt.timedelta(days=((made + i) * 7919) % 121 - 60),
                )
                for i, a in enumerate(apps)
            )
            instances = WorkflowInstance.objects.bulk_create(
                WorkflowInstance(case_id=c.pk, definition=definition, state={}) for c in cases
            )
            Task.objects.bulk_create(
                Task(
                    instance=wi,
                    case_id=c.pk,
                    task_uuid=uuid.uuid4(),
                    spec_name="review",
                    label="审查",
                    role="approver",
                    decisions=["pass", "return"],
                    department=item.department,
                    region_path=item.region.path,
                    due_date=c.due_date,
                )
                for c, wi in zip(cases, instances, strict=True)
            )
        made += n
        print(f"  {prefix}: {made}/{count}", file=sys.stderr)


def _time(client: Client, url: str, requests: int) -> dict:
    client.get(url)  # warm
    samples = []
    for _ in range(requests):
        t = time.perf_counter()
        r = client.get(url)
        samples.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.status_code
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--others", type=int, default=0)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    item, other, user = _world()
    applicant = get_user_model().objects.get_or_create(username="bench_applicant")[0]
    t = time.perf_counter()
    _fill(item, applicant, args.open, "B")
    if args.others:
        _fill(other, applicant, args.others, "O")
    fill_s = time.perf_counter() - t
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    setup_test_environment()
    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    client.force_login(user)
    pages = {
        "inbox": "/workbench/",
        "page 20": "/workbench/?page=20",
        "overdue": "/workbench/?state=overdue",
        "due soon": "/workbench/?state=due_soon",
        "step=review": "/workbench/?step=review",
        "item": f"/workbench/?item={item.code}",
    }
    results = {name: _time(client, url, args.requests) for name, url in pages.items()}
    from yiwang.workflow import selectors as wf

    qs = wf.inbox(user)[:51]
    plan = qs.explain() if connection.vendor != "postgresql" else qs.explain(analyze=True)
    print(
        json.dumps(
            {
                "database": connection.vendor,
                "open_tasks_in_department": Task.objects.filter(
                    department=item.department, state="open"
                ).count(),
                "open_tasks_total": Task.objects.filter(state="open").count(),
                "fill_seconds": round(fill_s, 1),
                "pages": results,
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    print(plan)


if __name__ == "__main__":
    main()
