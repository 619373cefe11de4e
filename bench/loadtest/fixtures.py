"""Data for the province-day load test, in the stack's database (run by ``deploy/stack.py``).

    python bench/loadtest/fixtures.py --out var/stack/loadtest.json

Runs with the stack's environment (``DATABASE_URL``, ``YIWANG_DATA_DIR``, ``REDIS_URL``) and
is idempotent, so every ``make stack`` runs it and a kept database is only topped up:

1. the province (``generate_province``, ``STACK_ITEMS`` items, once), the search synonyms, the
   back-office accounts and the demo extras of ``make demo`` (registries, demo applicants,
   demo staff and cases, city portal);
2. load-test staff in ``STACK_DEPARTMENTS`` county departments that publish items a password
   session may apply for: per department one counter clerk, one approver and one department head
   who take decisions (one actor per step and department, so two simulated people never race for
   the same task), plus ``STACK_READERS`` approvers who only read inboxes and cases, and two
   city-wide department heads (a role scoped to a prefecture, no department) for the
   supervisors' overdue and due-soon lists;
3. ``STACK_APPLICANTS`` verified applicants (registered through ``identity.services`` against
   the population registry, like a person on the portal);
4. a backlog of open cases (``STACK_BACKLOG``, 1600, made through the cases services and actions):
   about 200 per department, a third at each step, so inboxes have more than one page, as a
   department's do when cases take days;
5. the plan file for the locustfile: accounts, item codes, search queries, public lookup pairs.

Every load-test account has the password of ``LOADTEST_PASSWORD`` (known: never load this into a
production database). The staff accounts share one PBKDF2 hash, computed once, because hashing
a million rounds per account would make the fixtures slow; logins still check it in full.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOADTEST_PASSWORD = os.environ.get("LOADTEST_PASSWORD", "Loadtest-2026-yiwang")
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
# The steps each deciding role takes, as named in the workbench (workbench.selectors.STEPS).
DECIDER_STEPS = {"clerk": ["accept", "deliver"], "approver": ["review", "second_review"], "head": ["decide"]}


def _int_env(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _say(msg: str) -> None:
    print(f"[fixtures] {msg}", flush=True)


def ensure_province(items: int) -> None:
    from django.conf import settings
    from django.core.management import call_command

    from yiwang.catalog.generator import province_exists
    from yiwang.catalog.generator.demo import create_demo_users
    from yiwang.catalog.generator.standards import load_synonyms
    from yiwang.core.demo import load_demo_extras
    from yiwang.regions.models import Region

    code = settings.YIWANG_PROVINCE_CODE
    if not province_exists(code):
        _say(f"generating the province with {items} items (once; kept between runs)")
        call_command("generate_province", items=items, no_progress=True)
    load_synonyms()
    province = Region.objects.get(code=code)
    from django.contrib.auth import get_user_model

    if not get_user_model().objects.filter(is_superuser=True).exists():
        create_demo_users(province)
    load_demo_extras()


def _form_needs_only_what_the_test_sends(item) -> bool:
    """Every required field of the item's form is prefilled from the account or is the reason
    the applicants write (locustfile and ``ensure_backlog``): a form asking for more (a newborn's
    particulars, say) would refuse every submission of the load test."""
    from yiwang.cases.services import form_of

    schema, layout = form_of(item)
    prefilled = set((layout or {}).get("prefill") or {})
    return set(schema.get("required") or []) <= prefilled | {"reason"}


def _apply_items(departments_wanted: int) -> list[tuple[object, list]]:
    """County departments with published, non-instant items a password (acr 2) session may apply
    for with the load test's form data, each with up to 5 such items: [(department, [item, ...])].
    The same seed picks the same departments, so a kept database keeps its load-test staff."""
    from yiwang.catalog.models import ServiceItem
    from yiwang.identity.stepup import required_acr_for_item
    from yiwang.regions.models import Department

    published = ServiceItem.objects.filter(current_version__isnull=False, is_instant=False, region__level=3)
    dept_ids = sorted(set(published.values_list("department_id", flat=True)))
    random.Random(2026).shuffle(dept_ids)
    out: list[tuple[object, list]] = []
    for dept_id in dept_ids:
        items = [
            i
            # Items with a form of their own are left out: the backlog fills the default form only.
            for i in published.filter(department_id=dept_id, form__isnull=True)
            .select_related("department")
            .order_by("code")[:20]
            if required_acr_for_item(i.code) <= 2 and _form_needs_only_what_the_test_sends(i)
        ][:5]
        if len(items) >= 2:
            out.append((Department.objects.select_related("region__parent").get(pk=dept_id), items))
        if len(out) == departments_wanted:
            break
    return sorted(out, key=lambda v: v[0].pk)


def _user(username: str, hashed: str, label: str):
    from django.contrib.auth import get_user_model

    user, created = get_user_model().objects.get_or_create(username=username, defaults={"first_name": label})
    if created or user.password != hashed:
        user.password = hashed
        user.save(update_fields=["password"])
    return user


def ensure_staff(departments: list[tuple[object, list]], readers: int) -> dict[str, list]:
    from django.contrib.auth.hashers import make_password

    from yiwang.identity.models import Role, StaffRole

    hashed = make_password(LOADTEST_PASSWORD)
    roles = {"clerk": Role.COUNTER_CLERK, "approver": Role.APPROVER, "head": Role.DEPARTMENT_HEAD}
    deciders, reader_names, supervisors = [], [], []
    for k, (dept, _items) in enumerate(departments):
        for short, role in roles.items():
            user = _user(f"lt_d{k}_{short}", hashed, f"压测{short}")
            StaffRole.objects.get_or_create(user=user, role=role, region=dept.region, department=dept)
            deciders.append(
                {"username": user.username, "steps": DECIDER_STEPS[short], "department": dept.name}
            )
    for i in range(readers):
        dept = departments[i % len(departments)][0]
        user = _user(f"lt_r{i}", hashed, "压测阅办")
        StaffRole.objects.get_or_create(user=user, role=Role.APPROVER, region=dept.region, department=dept)
        reader_names.append(user.username)
    # City-wide heads: every department of the prefecture of the first two load-test departments.
    cities = []
    for dept, _items in departments:
        city = dept.region.parent
        if city is not None and city not in cities:
            cities.append(city)
    for i, city in enumerate(cities[:2]):
        user = _user(f"lt_s{i}", hashed, "压测督办")
        StaffRole.objects.get_or_create(user=user, role=Role.DEPARTMENT_HEAD, region=city, department=None)
        supervisors.append(user.username)
    return {"deciders": deciders, "readers": reader_names, "supervisors": supervisors}


def ensure_applicants(n: int) -> list[str]:
    from django.contrib.auth import get_user_model

    from yiwang.identity.models import PopulationRecord
    from yiwang.identity.synthetic import counties, generate_people, population_record

    User = get_user_model()
    have = set(User.objects.filter(username__startswith="lt_a").values_list("username", flat=True))
    wanted = [f"lt_a{i}" for i in range(n)]
    missing = [u for u in wanted if u not in have]
    if missing:
        rng = random.Random(6006)
        codes = [c.code for c in counties()]
        # Adults alive today, with ID numbers kept apart from the registries' own by the seed.
        people = [
            p
            for p in generate_people(
                4 * n + 40, rng=rng, region_codes=codes, today=dt.date(2026, 1, 1), taken=set()
            )
            if not p.deceased and p.birth_date.year <= 2000
        ]
        PopulationRecord.objects.bulk_create([population_record(p) for p in people], ignore_conflicts=True)
        from yiwang.identity.models import Person
        from yiwang.identity.registries import id_number_hash
        from yiwang.identity.synthetic import register_through_fake_sms

        taken = set(
            Person.objects.filter(
                id_number_hash__in=[id_number_hash(p.id_number) for p in people]
            ).values_list("id_number_hash", flat=True)
        )
        free = iter(p for p in people if id_number_hash(p.id_number) not in taken)
        for username in missing:
            p = next(free)
            register_through_fake_sms(
                username=username,
                password=LOADTEST_PASSWORD,
                name=p.name,
                id_number=p.id_number,
                phone=p.phone,
            )
        _say(f"registered {len(missing)} applicants")
    return wanted


def _open_cases(departments: list) -> int:
    from yiwang.workflow.models import Task, TaskState

    return (
        Task.objects.filter(department__in=[d for d, _i in departments], state=TaskState.OPEN)
        .exclude(role="applicant")
        .count()
    )


def ensure_backlog(departments: list[tuple[object, list]], applicants: list[str], target: int) -> int:
    """Open cases spread over the steps (a third each waiting for acceptance, review, decision)."""
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    from yiwang.cases import actions, services

    User = get_user_model()
    open_now = _open_cases(departments)
    need = max(0, target - open_now)
    if not need:
        return open_now
    _say(f"making {need} open cases ({open_now} open)")
    people = list(User.objects.filter(username__in=applicants))
    rng = random.Random(time.time_ns())
    staff = {
        (k, s): User.objects.get(username=f"lt_d{k}_{s}")
        for k in range(len(departments))
        for s in DECIDER_STEPS
    }
    started = time.perf_counter()
    for n in range(need):
        k = n % len(departments)
        item = departments[k][1][n % len(departments[k][1])]
        person = rng.choice(people)
        app = services.start_application(person, item)
        services.save_draft(
            app, user=person, data={**app.data, "reason": "压测积压件"}, delivery_method="electronic"
        )
        for m in services.required_materials(app):
            services.upload_material(
                app, requirement=m["name"], uploaded=SimpleUploadedFile("a.pdf", PDF), user=person
            )
        case = services.submit(app, user=person)
        if n % 3 >= 1:
            case = actions.Accept(case, staff[(k, "clerk")]).run()
        if n % 3 == 2:
            actions.Review(case, staff[(k, "approver")], decision="pass").run()
    _say(f"backlog made in {time.perf_counter() - started:.0f} s")
    return _open_cases(departments)


def write_plan(out: Path, departments, staff, applicants) -> dict:
    sys.path.insert(0, str(ROOT / "bench"))
    from queries import QUERIES
    from yiwang.cases.models import Case
    from yiwang.catalog.models import ServiceItem

    codes = list(
        ServiceItem.objects.filter(current_version__isnull=False)
        .order_by("code")
        .values_list("code", flat=True)
    )
    rng = random.Random(2026)
    rng.shuffle(codes)  # the order is the popularity rank the locustfile draws from (Zipf)
    lookups = list(Case.objects.order_by("-pk").values_list("number", "check_code")[:500])
    plan = {
        "password": LOADTEST_PASSWORD,
        "deciders": staff["deciders"],
        "readers": staff["readers"],
        "supervisors": staff["supervisors"],
        "applicants": applicants,
        "apply_items": [i.code for _d, items in departments for i in items],
        "guides": codes[:20000],
        # The unfiltered citizen queries of the search benchmark (bench/queries.py).
        "queries": sorted({q for _kind, q, filters in QUERIES if not filters}),
        "lookups": [list(x) for x in lookups],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(plan, ensure_ascii=False))
    return plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    import django

    django.setup()
    t0 = time.perf_counter()
    ensure_province(_int_env("STACK_ITEMS", 70000))
    departments = _apply_items(_int_env("STACK_DEPARTMENTS", 8))
    if not departments:
        raise SystemExit("no county department publishes items to apply for")
    staff = ensure_staff(departments, _int_env("STACK_READERS", 24))
    applicants = ensure_applicants(_int_env("STACK_APPLICANTS", 40))
    open_cases = ensure_backlog(departments, applicants, _int_env("STACK_BACKLOG", 1600))
    plan = write_plan(args.out, departments, staff, applicants)
    _say(
        f"{len(departments)} departments, {len(staff['deciders'])} deciders, {len(staff['readers'])} readers, "
        f"{len(applicants)} applicants, {open_cases} open tasks, {len(plan['guides'])} guides "
        f"({time.perf_counter() - t0:.0f} s) -> {args.out}"
    )


if __name__ == "__main__":
    main()
