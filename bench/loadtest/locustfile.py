"""The province-day load test: a mixed load on ``make stack`` (locust, headless; ``make loadtest``).

The mix and its rates are derived in docs/benchmarks.md ("Province-day load test"). Each class
is one kind of person; ``fixed_count`` and ``constant_throughput`` fix how many simulated
sessions run and how often each acts, so the offered load is known (numbers from the
environment, defaults below, about 500 requests/s in all):

| class | sessions | each | what |
|---|---|---|---|
| Citizen | LT_CITIZENS 30 | 5 req/s | anonymous: guides (Zipf over 20,000 items), search, home, browse, public case lookup |
| StaffReader | LT_READERS 24 | 13 req/s | approvers reading their inbox (filters, next pages) and case pages |
| StaffDecider | 3 per department | 0.2 rounds/s | inbox of its step, case page, the decision POST (accept, review, decide, deliver) |
| Supervisor | 2 | 2 req/s | city-wide heads: overdue and due-soon lists, deeper pages |
| Follower | LT_FOLLOWERS 10 | 2 req/s | applicants: my cases, a case page, its receipt |
| Applier | LT_APPLIERS 4 | one application per LT_APPLY_PACING 4 s | log in, start, form, upload every material, delivery, review, submit |

``LT_SCALE`` (default 1) multiplies every rate: the whole mix above offers about 523 requests/s,
so ``LT_SCALE=0.65`` offers about 340 in the same proportions (``make loadtest`` sets it from
``LOADTEST_OFFERED``).

Each simulated person sends its own X-Forwarded-For address (anonymous citizens one per request:
they stand for many people); the stack runs with ``YIWANG_TRUST_PROXY=1`` as behind the
province's load balancer. The plan (accounts, items, queries, lookups) comes from
``LOADTEST_PLAN`` (``var/stack/loadtest.json``, written by ``bench/loadtest/fixtures.py``).
``HelloUser`` is the baseline: Django's hello-world view on the same gunicorn.
"""

from __future__ import annotations

import bisect
import itertools
import json
import os
import random
import re
import uuid
from html import unescape
from pathlib import Path
from urllib.parse import quote, urlencode

import gevent
from locust import constant_pacing, constant_throughput, events, task
from locust.contrib.fasthttp import FastHttpUser

PLAN = json.loads(
    Path(os.environ.get("LOADTEST_PLAN", "var/stack/loadtest.json")).read_text(encoding="utf-8")
)
PASSWORD = PLAN["password"]

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
WB_CASE_RE = re.compile(r'href="/workbench/cases/(\d+)/"')
NEXT_RE = re.compile(r'<a href="(\?[^"]*)" rel="next">')
MY_CASE_RE = re.compile(r'href="/my/cases/([^"/]+)/"')
APP_ID_RE = re.compile(r"/apply/d/(\d+)/")
REQUIREMENT_RE = re.compile(r'class="upload-form">.*?name="requirement" value="([^"]*)"', re.S)
IDEMPOTENCY_RE = re.compile(r'name="idempotency_key" value="([^"]+)"')
INPUT_RE = re.compile(r"<(input|textarea|select)\b([^>]*)>", re.S)
ATTR_RE = re.compile(r'([a-zA-Z_:-]+)(?:="([^"]*)")?')
OPTION_RE = re.compile(r'<option value="([^"]+)"')
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

# The logins of the ramp (each a password check, costly by design) queue up behind each other:
# statistics start LT_SETTLE_SECONDS after the last user was spawned, when the queue has drained.
SETTLE_SECONDS = float(os.environ.get("LT_SETTLE_SECONDS", "0"))


@events.init.add_listener
def _settle_then_reset(environment, **_kw) -> None:
    def reset(**_kw) -> None:
        if SETTLE_SECONDS > 0:
            gevent.spawn_later(SETTLE_SECONDS, environment.runner.stats.reset_all)

    events.spawning_complete.add_listener(reset)


# Guide popularity: Zipf (s = 1) over the plan's 20,000 items, as page views of a catalogue are.
_ranks = [1.0 / (i + 1) for i in range(len(PLAN["guides"]))]
GUIDE_CDF = list(itertools.accumulate(_ranks))


def zipf_guide() -> str:
    return PLAN["guides"][bisect.bisect(GUIDE_CDF, random.random() * GUIDE_CDF[-1])]


def random_address() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


# One factor for every rate, so that a lower offered load keeps the mix's proportions.
SCALE = env_float("LT_SCALE", 1.0)


def rate(name: str, default: float) -> float:
    """Requests (or rounds) per second of one simulated person, scaled by ``LT_SCALE``."""
    return env_float(name, default) * SCALE


def csrf_of(html: str) -> str:
    m = CSRF_RE.search(html)
    return m.group(1) if m else ""


def form_fields(html: str, form_id: str) -> dict[str, str]:
    """The values a browser would send from form ``form_id``, empty required fields filled in."""
    start = html.find(f'id="{form_id}"')
    body = html[start : html.find("</form>", start)]
    values: dict[str, str] = {}
    for m in INPUT_RE.finditer(body):
        tag, attrs = m.group(1), dict((k, unescape(v or "")) for k, v in ATTR_RE.findall(m.group(2)))
        name = attrs.get("name")
        kind = attrs.get("type", "text")
        if not name or kind in ("submit", "button", "file") or name == "go":
            continue
        if kind in ("checkbox", "radio") and "checked" not in attrs:
            continue
        value = attrs.get("value", "")
        if tag == "textarea":
            rest = body[m.end() :]
            value = unescape(rest[: rest.find("</textarea>")])
        elif tag == "select":
            rest = body[m.end() : body.find("</select>", m.end())]
            sel = re.search(r'<option value="([^"]*)"[^>]*selected', rest)
            value = sel.group(1) if sel else ""
            if not value and "required" in attrs:
                opts = OPTION_RE.findall(rest)
                value = opts[0] if opts else ""
        if not value and "required" in attrs:
            value = {"number": "1", "date": "2026-12-01", "tel": "13800138000"}.get(kind, "")
            value = value or ("13800138000" if "phone" in name else "压测填写")
        values[name] = value
    return values


def multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for k, v in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/pdf\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Base(FastHttpUser):
    abstract = True

    def on_start(self) -> None:
        self.address = random_address()

    def headers(self, extra: dict | None = None) -> dict[str, str]:
        return {"X-Forwarded-For": self.address, **(extra or {})}

    def get(self, url: str, name: str, *, ok=(200,), **kw):
        with self.client.get(url, name=name, headers=self.headers(), catch_response=True, **kw) as r:
            if r.status_code not in ok:
                r.failure(f"{r.status_code} on {url}")
            return r

    def post(self, url: str, name: str, data: dict | None = None, *, ok=(302,), body=None, ctype=None):
        payload = body if body is not None else urlencode(data or {})
        headers = self.headers({"Content-Type": ctype or FORM["Content-Type"], "Referer": self.host + url})
        with self.client.post(
            url, data=payload, name=name, headers=headers, allow_redirects=False, catch_response=True
        ) as r:
            if r.status_code not in ok:
                r.failure(f"{r.status_code} on {url}")
            return r

    def login(self, username: str, kind: str) -> bool:
        page = self.get("/auth/login/", f"login page ({kind})")
        r = self.post(
            "/auth/login/",
            f"login POST ({kind})",
            {
                "csrfmiddlewaretoken": csrf_of(page.text or ""),
                "login": username,
                "password": PASSWORD,
                "next": "/",
            },
        )
        return r.status_code == 302


class HelloUser(Base):
    """Baseline: Django's hello-world view on the same server (run alone, before the mix)."""

    @task
    def hello(self) -> None:
        self.get("/hello/", "hello")


class Citizen(Base):
    """Anonymous people: reading guides, searching, browsing, looking a case up."""

    fixed_count = env_int("LT_CITIZENS", 30)
    wait_time = constant_throughput(rate("LT_CITIZEN_RATE", 5))

    def headers(self, extra: dict | None = None) -> dict[str, str]:
        # One simulated citizen stands for many people: a new address per request.
        return {"X-Forwarded-For": random_address(), **(extra or {})}

    @task(55)
    def guide(self) -> None:
        self.get(f"/items/{zipf_guide()}/", "guide")

    @task(20)
    def search(self) -> None:
        self.get(f"/search/?q={quote(random.choice(PLAN['queries']))}", "search")

    @task(8)
    def home(self) -> None:
        self.get("/", "home")

    @task(7)
    def browse(self) -> None:
        self.get(f"/items/?page={random.randint(1, 20)}", "browse")

    @task(5)
    def lookup(self) -> None:
        if PLAN["lookups"]:
            number, code = random.choice(PLAN["lookups"])
            self.get(f"/cases/lookup/?number={number}&code={code}", "case lookup")

    @task(5)
    def lookup_form(self) -> None:
        self.get("/cases/lookup/", "case lookup")


_readers = itertools.cycle(PLAN["readers"])
_deciders = iter(PLAN["deciders"])
_supervisors = itertools.cycle(PLAN["supervisors"])
_followers = itertools.cycle(PLAN["applicants"][: max(1, len(PLAN["applicants"]) // 2)])
_appliers = itertools.cycle(PLAN["applicants"][len(PLAN["applicants"]) // 2 :])


class StaffReader(Base):
    """Staff working their inbox: the inbox with filters and pages, case pages."""

    fixed_count = env_int("LT_READERS", 24)
    wait_time = constant_throughput(rate("LT_READER_RATE", 13))

    def on_start(self) -> None:
        super().on_start()
        self.login(next(_readers), "staff")
        self.cases: list[str] = []

    @task(40)
    def inbox(self) -> None:
        r = self.get("/workbench/", "wb inbox")
        self.cases = WB_CASE_RE.findall(r.text or "") or self.cases
        self.next_page, self.depth = (NEXT_RE.findall(r.text or "") or [""])[0], 1

    @task(12)
    def inbox_filtered(self) -> None:
        q = random.choice(["step=accept", "step=review", "step=decide", "state=overdue", "state=due_soon"])
        self.get(f"/workbench/?{q}", "wb inbox filtered")

    @task(8)
    def inbox_page(self) -> None:
        """The next page (keyset cursor link) of the last inbox page read, up to page 5."""
        if not getattr(self, "next_page", "") or self.depth >= 5:
            self.inbox()
            return
        r = self.get(f"/workbench/{unescape(self.next_page)}", "wb inbox next page")
        self.next_page, self.depth = (NEXT_RE.findall(r.text or "") or [""])[0], self.depth + 1

    @task(40)
    def case(self) -> None:
        if self.cases:
            self.get(f"/workbench/cases/{random.choice(self.cases)}/", "wb case")


class StaffDecider(Base):
    """One clerk, approver or head per department: takes the next case of its steps and decides."""

    fixed_count = len(PLAN["deciders"])
    wait_time = constant_throughput(rate("LT_DECIDER_RATE", 0.2))
    PARAMS = {
        "accept": {},
        "review": {"decision": "pass"},
        "second_review": {"decision": "pass"},
        "decide": {"decision": "approve"},
        "deliver": {"method": "electronic"},
    }

    def on_start(self) -> None:
        super().on_start()
        me = next(_deciders)
        self.steps = me["steps"]
        self.login(me["username"], "staff")

    @task
    def work(self) -> None:
        step = random.choice(self.steps)
        r = self.get(f"/workbench/?step={step}", "wb inbox of a step")
        cases = WB_CASE_RE.findall(r.text or "")
        if not cases:
            return
        case_id = cases[0]
        page = self.get(f"/workbench/cases/{case_id}/", "wb case")
        action = f"/workbench/cases/{case_id}/act/{step}/"
        if action not in (page.text or ""):
            return  # another step of the process (e.g. inspection) or just taken
        data = {"csrfmiddlewaretoken": csrf_of(page.text or ""), **self.PARAMS[step]}
        self.post(action, f"wb act {step}", data)


class Supervisor(Base):
    """City-wide heads watching time limits: overdue and due-soon lists, deeper pages."""

    fixed_count = len(PLAN["supervisors"])
    wait_time = constant_throughput(rate("LT_SUPERVISOR_RATE", 2))

    def on_start(self) -> None:
        super().on_start()
        self.login(next(_supervisors), "staff")

    @task
    def lists(self) -> None:
        q = random.choice(["state=overdue", "state=due_soon", "order=new", "step=decide", ""])
        r = self.get(f"/workbench/?{q}", "supervisor list")
        more = NEXT_RE.findall(r.text or "")
        if more and random.random() < 0.3:
            self.get(f"/workbench/{unescape(more[0])}", "supervisor list next page")


class Follower(Base):
    """Applicants following their cases."""

    fixed_count = env_int("LT_FOLLOWERS", 10)
    wait_time = constant_throughput(rate("LT_FOLLOWER_RATE", 2))

    def on_start(self) -> None:
        super().on_start()
        self.login(next(_followers), "applicant")
        self.numbers: list[str] = []

    @task(4)
    def my_cases(self) -> None:
        r = self.get("/my/cases/", "my cases")
        self.numbers = [n for n in MY_CASE_RE.findall(r.text or "") if n != "receipt"] or self.numbers

    @task(4)
    def my_case(self) -> None:
        if self.numbers:
            self.get(f"/my/cases/{random.choice(self.numbers)}/", "my case")

    @task(1)
    def receipt(self) -> None:
        if self.numbers:
            self.get(f"/my/cases/{random.choice(self.numbers)}/receipt/", "my case receipt")


class Applier(Base):
    """An applicant's whole online application: log in, form, uploads, delivery, submit, log out."""

    fixed_count = env_int("LT_APPLIERS", 4)
    wait_time = constant_pacing(env_float("LT_APPLY_PACING", 4) / SCALE)

    @task
    def apply(self) -> None:
        self.client.cookiejar.clear()
        if not self.login(next(_appliers), "applicant"):
            return
        code = random.choice(PLAN["apply_items"])
        page = self.get(f"/apply/{code}/", "apply start")
        r = self.post(
            f"/apply/{code}/",
            "apply start POST",
            {
                "csrfmiddlewaretoken": csrf_of(page.text or ""),
                "acting_for": "self",
                "idempotency_key": (IDEMPOTENCY_RE.search(page.text or "") or [None, ""])[1],
            },
        )
        m = APP_ID_RE.search(r.headers.get("location") or "")
        if not m:
            return
        base = f"/apply/d/{m.group(1)}"
        page = self.get(f"{base}/form/", "apply form")
        fields = form_fields(page.text or "", "schema-form")
        if "reason" in fields and not fields["reason"]:
            fields["reason"] = "压测：网上申请"
        self.post(f"{base}/form/", "apply form POST", {**fields, "go": "next"})
        page = self.get(f"{base}/materials/", "apply materials")
        for requirement in REQUIREMENT_RE.findall(page.text or ""):
            body, ctype = multipart(
                {"csrfmiddlewaretoken": csrf_of(page.text or ""), "requirement": unescape(requirement)},
                "material.pdf",
                PDF,
            )
            self.post(f"{base}/materials/", "apply upload", body=body, ctype=ctype)
        token = csrf_of(page.text or "")
        self.post(f"{base}/materials/", "apply materials next", {"csrfmiddlewaretoken": token, "go": "next"})
        self.get(f"{base}/delivery/", "apply delivery")
        self.post(
            f"{base}/delivery/",
            "apply delivery POST",
            {"csrfmiddlewaretoken": token, "delivery_method": "electronic"},
        )
        page = self.get(f"{base}/review/", "apply review")
        key = (IDEMPOTENCY_RE.search(page.text or "") or [None, ""])[1]
        r = self.post(
            f"{base}/review/", "apply submit", {"csrfmiddlewaretoken": token, "idempotency_key": key}
        )
        if r.status_code == 302:
            self.get(r.headers["location"], "my case receipt")
        self.post("/auth/logout/", "logout", {"csrfmiddlewaretoken": token})
