"""Crash tests (issue 6): kill web and job workers at random moments, then prove nothing was lost.

    .venv/bin/python bench/crash/run.py [--trials 100] [--phases crash,pg,redis] [--keep]

The script starts its OWN stack on other ports than the shared services, and stops only the
processes it started (by their ids):

- a PostgreSQL 15 cluster under a temporary directory (``initdb``, port 55432),
- a Redis server (port 56379, no persistence),
- ``yiwang serve`` (gunicorn, 2 workers, port 58000), a Celery worker and Celery beat,

fills it with ``generate-province`` and the demo staff and applicant, and then runs three phases.

crash
    Applicants submit cases through the real pages over HTTP (apply, form, materials upload,
    delivery, review, submit; receipt = the case number in the redirect); a counter clerk,
    an approver and a department head work their inboxes over HTTP (accept, review, decide,
    deliver, close). Every trial waits until the clients got three more answers, then a random
    0.1-1.5 s, and SIGKILLs one of: a random gunicorn worker (the master starts a new one), a
    random Celery pool process, or the whole Celery worker (restarted at once). Clients behave
    as people and browsers do: a request cut off by a
    dead worker is sent again, the same form with the same idempotency key. After each trial:
    every case acknowledged so far (the client saw its number) exists exactly once. At the end,
    with the load stopped: no duplicate case per application, every submitted application has
    its case and every case its process, ``yiwang check-consistency`` passes (open inbox rows ==
    the engine's ready user tasks), each acknowledged staff action completed its step once, every
    outbox message is sent (beat's resend job), and every case has its receipt notice.
pg
    Readers and applicants keep going while PostgreSQL stops for 5 s (``pg_ctl stop -m fast``):
    during the outage pages answer 503 (Chinese page with the language switch) and the API a
    JSON problem; no 500; afterwards every request succeeds again without restarting yiwang.
pg and redis count status codes per request kind and time the recovery.
redis
    Redis is stopped while readers and applicants go on: pages and submissions keep working
    (no 500, latency bounded), jobs are not published but kept in the database; when Redis is
    back, beat's resend sends every outbox message written meanwhile and republishes the kept
    jobs (every case gets its receipt notice).

Prints a table per phase and a JSON summary on the last line. ``--keep`` leaves the stack's
directory for inspection. Needs the PostgreSQL 15 binaries in /usr/lib/postgresql/15/bin and
redis-server on PATH.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
PGBIN = Path(os.environ.get("CRASH_PGBIN", "/usr/lib/postgresql/15/bin"))
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
DEMO_PASSWORD = "Yiwang-demo-2026"  # identity.synthetic.DEMO_PASSWORD (the demo accounts)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- the stack ---------------------------------------------------------------------------------


class Stack:
    """PostgreSQL, Redis, gunicorn, Celery worker and beat, all started (and stopped) here."""

    def __init__(self, workdir: Path, *, pg_port: int, redis_port: int, web_port: int, web_workers: int):
        self.dir = workdir
        self.pg_port, self.redis_port, self.web_port = pg_port, redis_port, web_port
        self.web_workers = web_workers
        self.pgdata = workdir / "pg"
        self.procs: dict[str, subprocess.Popen] = {}
        self.base = f"http://127.0.0.1:{web_port}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "yiwang.settings",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{pg_port}/yiwang",
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "YIWANG_DATA_DIR": str(workdir / "data"),
            "SECRET_KEY": "crash-test-only-" + "x" * 40,
            "DEBUG": "0",
            "LOG_LEVEL": "ERROR",
            # Every client comes from 127.0.0.1 as the same applicant: lift the per-client limits.
            "YIWANG_RATE_REGISTER": "off",
            "YIWANG_RATE_SEARCH": "off",
            "YIWANG_RATE_UPLOAD": "off",
            "YIWANG_API_THROTTLE": "0",
            # Beat's resend of unsent outbox messages every 5 s instead of 60 (to finish sooner).
            "YIWANG_OUTBOX_EVERY": "5",
            "YIWANG_REPUBLISH_EVERY": "5",
            # A notice whose job died with a killed web worker is made by the sweep 15 s later.
            "YIWANG_NOTICE_SWEEP_EVERY": "5",
            "YIWANG_NOTICE_SWEEP_GRACE": "15",
            # A killed worker's unacknowledged job is delivered again after 20 s instead of 10 min.
            "YIWANG_JOB_VISIBILITY_SECONDS": "20",
            "DB_CONN_MAX_AGE": "60",
        }
        self.env.pop("YIWANG_SQLITE_PATH", None)

    # PostgreSQL -----------------------------------------------------------------------------
    def _as_pg_owner(self, argv: list[str]) -> list[str]:
        # PostgreSQL refuses to run as root: run the cluster as the ``postgres`` system user.
        if os.geteuid() == 0:
            return ["runuser", "-u", os.environ.get("CRASH_PG_USER", "postgres"), "--", *argv]
        return argv

    def pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            self._as_pg_owner([str(PGBIN / "pg_ctl"), "-D", str(self.pgdata), *args]),
            capture_output=True,
            text=True,
            check=check,
        )

    def start_pg(self) -> None:
        if not (self.pgdata / "PG_VERSION").exists():
            self.pgdata.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                owner = os.environ.get("CRASH_PG_USER", "postgres")
                shutil.chown(self.pgdata, owner, owner)
                os.chmod(self.dir, 0o755)
                (self.dir / "pgrun").mkdir(exist_ok=True)
                shutil.chown(self.dir / "pgrun", owner, owner)
            subprocess.run(
                self._as_pg_owner(
                    [
                        str(PGBIN / "initdb"),
                        "-D",
                        str(self.pgdata),
                        "-U",
                        "postgres",
                        "-A",
                        "trust",
                        "-E",
                        "UTF8",
                        "--no-sync",
                    ]
                ),
                check=True,
                capture_output=True,
            )
        self.pg_ctl("-o", self.pg_options(), "-l", str(self.dir / "pgrun" / "pg.log"), "-w", "start")

    def pg_options(self) -> str:
        return (
            f"-p {self.pg_port} -c listen_addresses=127.0.0.1 -k {self.dir / 'pgrun'} -c fsync=off "
            "-c max_connections=60 -c shared_buffers=64MB"
        )

    def pg_pid(self) -> int:
        return int((self.pgdata / "postmaster.pid").read_text().split()[0])

    def stop_pg(self) -> None:
        if (self.pgdata / "postmaster.pid").exists():
            self.pg_ctl("-m", "fast", "-w", "stop", check=False)

    def psql(self, sql: str, params: tuple = ()) -> list[tuple]:
        import psycopg

        with psycopg.connect(f"postgres://postgres@127.0.0.1:{self.pg_port}/yiwang", autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    # Redis ----------------------------------------------------------------------------------
    def start_redis(self) -> None:
        self._spawn(
            "redis",
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
        )
        for _ in range(50):
            try:
                import redis

                redis.Redis(port=self.redis_port, socket_connect_timeout=0.2).ping()
                return
            except Exception:
                time.sleep(0.1)
        raise RuntimeError("redis did not start")

    def stop_redis(self) -> None:
        self._stop("redis")

    # yiwang ---------------------------------------------------------------------------------
    def yiwang(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        out = subprocess.run(
            [str(VENV_BIN / "yiwang"), *args], env=self.env, cwd=self.dir, capture_output=True, text=True
        )
        if check and out.returncode:
            raise RuntimeError(f"yiwang {' '.join(args)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
        return out

    def prepare(self, items: int) -> str:
        import psycopg

        with psycopg.connect(f"postgres://postgres@127.0.0.1:{self.pg_port}/postgres", autocommit=True) as c:
            if not c.execute("SELECT 1 FROM pg_database WHERE datname='yiwang'").fetchone():
                c.execute("CREATE DATABASE yiwang")
        self.yiwang("migrate", "--no-input", "-v0")
        if not self.psql("SELECT 1 FROM catalog_serviceitem LIMIT 1"):
            self.yiwang("generate-province", "--items", str(items), "-v0")
        if not self.psql("SELECT 1 FROM auth_user WHERE username = 'chenyt'"):
            # Only the demo staff and applicant are needed; the demo cases themselves may fail
            # (the demo item's form changed) without harming this test, so do not insist.
            demo = self.yiwang("load_demo_cases", check=False)
            users = {r[0] for r in self.psql("SELECT username FROM auth_user")}
            if not {"chenyt", *STAFF_WORK} <= users:
                raise RuntimeError(f"demo accounts missing after load_demo_cases:\n{demo.stderr[-3000:]}")
            if demo.returncode:
                log(
                    "note: load_demo_cases created the accounts but not its demo cases: "
                    + demo.stderr.strip()[-300:]
                )
        out = self.yiwang("shell", "-c", "from yiwang.cases import demo; print(demo._item().code)")
        return out.stdout.strip().splitlines()[-1]

    def start_web(self) -> None:
        self._spawn(
            "web",
            [
                str(VENV_BIN / "yiwang"),
                "serve",
                "--port",
                str(self.web_port),
                "--workers",
                str(self.web_workers),
            ],
        )
        self.wait_http()

    def wait_http(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base + "/hello/", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        tail = (self.dir / "web.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"yiwang serve did not answer within {timeout:.0f} s:\n{tail}")

    def start_worker(self) -> None:
        self._spawn(
            "worker",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "yiwang",
                "worker",
                "-c",
                "2",
                "-n",
                "crash@%h",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
        )

    def start_beat(self) -> None:
        self._spawn(
            "beat",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "yiwang",
                "beat",
                "--loglevel",
                "WARNING",
                "-s",
                str(self.dir / "beat-schedule"),
            ],
        )

    def children(self, name: str) -> list[int]:
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return []
        out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def _spawn(self, name: str, argv: list[str]) -> None:
        logf = open(self.dir / f"{name}.log", "ab")  # noqa: SIM115  (kept open for the child)
        # A new session: the process and its children are one group this script can kill.
        self.procs[name] = subprocess.Popen(
            argv, env=self.env, cwd=self.dir, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True
        )

    def kill_group(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.get(name)
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)  # the group this script created for it (start_new_session)
        proc.wait(timeout=30)

    def _stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)

    def stop_all(self) -> None:
        for name in ("web", "beat", "worker", "redis"):
            self._stop(name)
        self.stop_pg()


# --- clients -----------------------------------------------------------------------------------


class FormParser(HTMLParser):
    """The inputs of the page's forms: name -> value (text, hidden, checked radios, selects),
    and what each field requires (to fill an item's own form the way a person would)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self.fields: dict[str, dict[str, str]] = {}
        self.options: dict[str, list[str]] = {}
        self.requirements: list[str] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file"):
                return
            self.fields.setdefault(name, {**a, "tag": "input"})
            if kind in ("radio", "checkbox"):
                self.options.setdefault(name, []).append(a.get("value", "on"))
                if "checked" in a:
                    self.values[name] = a.get("value", "on")
                return
            if name == "requirement":
                self.requirements.append(a.get("value", ""))
            self.values[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select = name
            self.fields[name] = {**a, "tag": "select"}
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if value:
                self.options.setdefault(self._select, []).append(value)
            if self._select not in self.values or "selected" in a:
                self.values[self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = {**a, "tag": "textarea"}
            self.values[name] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def filled(self) -> dict[str, str]:
        """The form as a person completes it: prefilled values kept, every empty required
        field given a valid value (first choice, the minimum number, today, a long enough text)."""
        skip = ("csrfmiddlewaretoken", "language", "next")
        data = {k: v for k, v in self.values.items() if k not in skip}
        for name, f in self.fields.items():
            if data.get(name) or "required" not in f or name in skip:
                continue
            kind = f.get("type", "text") if f["tag"] == "input" else f["tag"]
            if name in self.options:
                data[name] = self.options[name][0]
            elif kind == "number":
                data[name] = f.get("min") or "1"
            elif kind == "date":
                data[name] = time.strftime("%Y-%m-%d")
            else:
                data[name] = "崩溃测试填写的内容"[: int(f.get("maxlength") or 50)]
        return data


def form_values(html: str) -> FormParser:
    p = FormParser()
    p.feed(html)
    return p


class Unexpected(Exception):
    """The server answered something a working platform must not (a 500, a wrong redirect)."""


@dataclass
class Stats:
    acked_cases: dict[str, int] = field(default_factory=dict)  # number -> application id
    acked_actions: list[tuple[int, str]] = field(default_factory=list)
    retries: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client:
    """One browser: a session, CSRF, and the same request again when a worker died under it."""

    def __init__(self, base: str, stats: Stats, *, retries: int = 30) -> None:
        self.base = base
        self.s = requests.Session()
        self.stats = stats
        self.retries = retries

    def request(self, method: str, path: str, *, ok=(200, 302), **kw) -> requests.Response:
        kw.setdefault("timeout", 30)
        kw.setdefault("allow_redirects", False)
        for attempt in range(self.retries):
            if method == "POST":
                kw.setdefault("headers", {})["X-CSRFToken"] = self.s.cookies.get("csrftoken", "")
                kw["headers"]["Referer"] = self.base + path
            try:
                r = self.s.request(method, self.base + path, **kw)
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                # The worker died before or while answering: the browser sends the request again.
                with self.stats.lock:
                    self.stats.retries["connection cut"] += 1
                time.sleep(0.2 + 0.1 * attempt)
                continue
            with self.stats.lock:
                self.stats.statuses[r.status_code] += 1
            if r.status_code == 503:  # the database restarting (phase pg): try again shortly
                with self.stats.lock:
                    self.stats.retries["503"] += 1
                time.sleep(0.5)
                continue
            if r.status_code >= 500:
                raise Unexpected(f"{method} {path}: {r.status_code}")
            if r.status_code not in ok:
                raise Unexpected(f"{method} {path}: {r.status_code} {r.text[:200]!r}")
            return r
        raise Unexpected(f"{method} {path}: no answer after {self.retries} tries")

    def login(self, username: str) -> None:
        self.request("GET", "/auth/login/")
        r = self.request("POST", "/auth/login/", data={"login": username, "password": DEMO_PASSWORD})
        if r.status_code != 302:
            raise Unexpected(f"login {username}: {r.status_code}")


def apply_once(c: Client, item_code: str) -> str:
    """One application through the pages; returns the case number the receipt shows."""
    page = c.request("GET", f"/apply/{item_code}/").text
    key = form_values(page).values["idempotency_key"]
    r = c.request("POST", f"/apply/{item_code}/", data={"acting_for": "self", "idempotency_key": key})
    m = re.search(r"/apply/d/(\d+)/form/", r.headers.get("Location", ""))
    if not m:
        raise Unexpected(f"apply start: {r.status_code} {r.headers.get('Location')}")
    app_id = int(m.group(1))
    data = form_values(c.request("GET", f"/apply/d/{app_id}/form/").text).filled()
    data.pop("large_text", None)
    data.update(go="next")
    c.request("POST", f"/apply/d/{app_id}/form/", data=data, ok=(302,))
    page = form_values(c.request("GET", f"/apply/d/{app_id}/materials/").text)
    for requirement in dict.fromkeys(page.requirements):
        c.request(
            "POST",
            f"/apply/d/{app_id}/materials/",
            data={"requirement": requirement},
            files={"file": ("申请书.pdf", PDF, "application/pdf")},
            ok=(302,),
        )
    c.request("POST", f"/apply/d/{app_id}/materials/", data={"go": "next"}, ok=(302,))
    c.request("POST", f"/apply/d/{app_id}/delivery/", data={"delivery_method": "electronic"}, ok=(302,))
    key = form_values(c.request("GET", f"/apply/d/{app_id}/review/").text).values["idempotency_key"]
    r = c.request("POST", f"/apply/d/{app_id}/review/", data={"idempotency_key": key}, ok=(302,))
    m = re.search(r"/my/cases/([^/]+)/receipt/", r.headers.get("Location", ""))
    if not m:
        raise Unexpected(f"submit: no receipt redirect ({r.headers.get('Location')})")
    number = m.group(1)
    c.request("GET", f"/my/cases/{number}/receipt/")
    with c.stats.lock:
        c.stats.acked_cases[number] = app_id
    return number


STAFF_WORK = {
    "clerk": [("accept", "accept", {}), ("deliver", "deliver", {"method": "electronic"})],
    "approver": [("review", "review", {"decision": "pass"})],
    "dept_head": [("decide", "decide", {"decision": "approve"})],
}


def act(c: Client, case_id: int, action: str, params: dict) -> bool:
    r = c.request("POST", f"/workbench/cases/{case_id}/act/{action}/", data=params, ok=(302, 400, 403, 404))
    if r.status_code == 302:
        with c.stats.lock:
            c.stats.acked_actions.append((case_id, action))
        return True
    return False  # someone else (or this client's cut-off first try) already did it


def staff_pass(c: Client, username: str) -> int:
    done = 0
    for step, action, params in STAFF_WORK[username]:
        html = c.request("GET", f"/workbench/?step={step}&order=new").text
        for case_id in list(dict.fromkeys(int(x) for x in re.findall(r"/workbench/cases/(\d+)/", html)))[:4]:
            if act(c, case_id, action, params):
                done += 1
                if action == "deliver":
                    act(c, case_id, "close", {})
    return done


class Load:
    """Applicant and staff threads until ``stop`` is set."""

    def __init__(self, base: str, item_code: str, *, applicants: int, staff: bool, readers: int = 0):
        self.base, self.item_code = base, item_code
        self.stats = Stats()
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        for i in range(applicants):
            self.threads.append(threading.Thread(target=self._applicant, args=(i,), daemon=True))
        if staff:
            for username in STAFF_WORK:
                self.threads.append(threading.Thread(target=self._staff, args=(username,), daemon=True))
        for i in range(readers):
            self.threads.append(threading.Thread(target=self._reader, args=(i,), daemon=True))
        self.timeline: list[tuple[float, str, int, float]] = []  # (t, kind, status, seconds)

    def start(self) -> None:
        self.t0 = time.monotonic()
        for t in self.threads:
            t.start()

    def join(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=120)

    def _guard(self, fn) -> None:
        try:
            fn()
        except Unexpected as exc:
            with self.stats.lock:
                self.stats.unexpected.append(str(exc))
        except Exception as exc:  # the harness itself: report, never hide
            with self.stats.lock:
                self.stats.unexpected.append(f"client error {type(exc).__name__}: {exc}")

    def _applicant(self, i: int) -> None:
        c = Client(self.base, self.stats)
        self._guard(lambda: c.login("chenyt"))
        while not self.stop.is_set():
            self._guard(lambda: apply_once(c, self.item_code))

    def _staff(self, username: str) -> None:
        c = Client(self.base, self.stats)
        self._guard(lambda: c.login(username))
        while not self.stop.is_set():
            n = 0

            def one() -> None:
                nonlocal n
                n = staff_pass(c, username)

            self._guard(one)
            if not n:
                time.sleep(0.3)

    def _reader(self, i: int) -> None:
        """Phase pg/redis: plain reads, each request recorded (no retry) for the timeline."""
        s = requests.Session()
        paths = [("page", f"/items/{self.item_code}/"), ("page", "/items/"), ("api", "/api/regions/")]
        while not self.stop.is_set():
            kind, path = random.choice(paths)
            t = time.monotonic()
            try:
                r = s.get(self.base + path, timeout=10)
                status = r.status_code
                if status == 503:
                    body = r.text
                    good = (
                        ("服务暂时不可用" in body and "/i18n/setlang/" in body)
                        if kind == "page"
                        else r.headers.get("Content-Type", "").startswith("application/problem+json")
                    )
                    if not good:
                        status = 599  # a 503 without the page or problem body
            except requests.RequestException:
                status = 0
            with self.stats.lock:
                self.timeline.append((t - self.t0, kind, status, time.monotonic() - t))
            time.sleep(0.05)


# --- checks ------------------------------------------------------------------------------------


KILLS: list[tuple[float, str]] = []  # (wall-clock time, what was killed), for the diagnosis


def nearest_kill(at: float) -> str:
    """The kill closest after ``at`` (a case's submission): a job lost with the web worker?"""
    after = [(t - at, what) for t, what in KILLS if -0.5 <= t - at <= 10]
    if not after:
        return "no kill within 10 s after it was submitted"
    dt, what = min(after)
    return f"{what} killed {dt * 1000:.0f} ms after it was submitted"


def check_acked(stack: Stack, stats: Stats) -> list[str]:
    """Every case a client got the number of exists exactly once, for the application it named."""
    with stats.lock:
        acked = dict(stats.acked_cases)
    if not acked:
        return []
    rows = stack.psql("SELECT number, application_id FROM cases_case WHERE number = ANY(%s)", (list(acked),))
    found = Counter(r[0] for r in rows)
    apps = {r[0]: r[1] for r in rows}
    problems = [f"acknowledged case {n} missing" for n in acked if found[n] == 0]
    problems += [f"case {n} exists {k} times" for n, k in found.items() if k > 1]
    problems += [
        f"case {n} belongs to application {apps[n]}, not {a}"
        for n, a in acked.items()
        if n in apps and apps[n] != a
    ]
    return problems


def final_checks(stack: Stack, stats: Stats, *, wait: float = 180, after_case: int = 0) -> dict[str, object]:
    """The end-of-phase checks; receipts only for cases after ``after_case`` (the phase's own)."""
    out: dict[str, object] = {}
    problems: list[str] = check_acked(stack, stats)
    q = stack.psql
    out["cases"] = q("SELECT count(*) FROM cases_case")[0][0]
    dup_numbers = q("SELECT number FROM cases_case GROUP BY number HAVING count(*) > 1")
    dup_apps = q("SELECT application_id FROM cases_case GROUP BY application_id HAVING count(*) > 1")
    problems += [f"duplicate case number {r[0]}" for r in dup_numbers]
    problems += [f"application {r[0]} has several cases" for r in dup_apps]
    orphan_apps = q(
        "SELECT a.id FROM cases_application a LEFT JOIN cases_case c ON c.application_id = a.id "
        "WHERE a.submitted_at IS NOT NULL AND c.id IS NULL"
    )
    problems += [f"application {r[0]} marked submitted without a case" for r in orphan_apps]
    no_process = q(
        "SELECT c.number FROM cases_case c LEFT JOIN workflow_workflowinstance w ON w.case_id = c.id "
        "WHERE w.id IS NULL"
    )
    problems += [f"case {r[0]} has no process" for r in no_process]
    # Each acknowledged staff action completed its step exactly once.
    step_of = {"accept": "accept", "review": "review", "decide": "decide", "deliver": "deliver"}
    with stats.lock:
        acked_actions = list(stats.acked_actions)
    out["staff_actions_acknowledged"] = len(acked_actions)
    completed = Counter(
        (r[0], r[1]) for r in q("SELECT case_id, spec_name FROM workflow_task WHERE state = 'completed'")
    )
    for case_id, action in acked_actions:
        if action == "close":
            if q("SELECT state FROM cases_case WHERE id = %s", (case_id,))[0][0] != "closed":
                problems.append(f"acknowledged close of case {case_id} not closed")
            continue
        if completed[(case_id, step_of[action])] != 1:
            problems.append(
                f"case {case_id}: step {action} completed {completed[(case_id, step_of[action])]} times"
            )
    consistency = stack.yiwang("check-consistency", check=False)
    out["check_consistency"] = (
        consistency.stdout.strip().splitlines()[-1:] + consistency.stderr.strip().splitlines()[-1:]
    )
    if consistency.returncode != 0:
        problems.append("check-consistency: " + consistency.stdout.strip()[-2000:])
    # Jobs: wait for beat's resend (outbox) and the notice jobs (a killed worker's job comes back
    # after the visibility timeout).
    deadline = time.monotonic() + wait
    while True:
        unsent = q("SELECT count(*) FROM cases_outboxmessage WHERE sent_at IS NULL")[0][0]
        no_receipt = q(
            "SELECT c.number, extract(epoch FROM c.submitted_at) FROM cases_case c WHERE c.id > %s AND NOT EXISTS "
            "(SELECT 1 FROM cases_notice n WHERE n.case_id = c.id AND n.kind = 'receipt')",
            (after_case,),
        )
        kept = q("SELECT count(*) FROM core_deferredjob")[0][0]
        if (unsent == 0 and not no_receipt and not kept) or time.monotonic() > deadline:
            break
        time.sleep(2)
    out["outbox_unsent"] = unsent
    out["outbox_total"] = q("SELECT count(*) FROM cases_outboxmessage")[0][0]
    out["cases_without_receipt"] = len(no_receipt)
    out["jobs_still_kept"] = kept
    import redis

    broker = redis.Redis(port=stack.redis_port, socket_connect_timeout=1)
    # Jobs still in Redis: queued, or taken by a killed worker and not yet given back.
    out["broker_queued"], out["broker_unacked"] = broker.llen("celery"), broker.hlen("unacked")
    if kept:
        problems.append(f"{kept} jobs kept while Redis was down never republished")
    if unsent:
        problems.append(f"{unsent} outbox messages never sent")
    problems += [
        f"case {r[0]} has no receipt notice (its job was lost; {nearest_kill(float(r[1]))})"
        for r in no_receipt
    ]
    with stats.lock:
        problems += [f"server answered: {u}" for u in stats.unexpected]
    out["problems"] = problems
    return out


# --- phases ------------------------------------------------------------------------------------


def answered(stats: Stats) -> int:
    with stats.lock:
        return stats.statuses[200] + stats.statuses[302]


def wait_for_progress(stats: Stats, n: int, *, timeout: float) -> None:
    target, deadline = answered(stats) + n, time.monotonic() + timeout
    while answered(stats) < target and time.monotonic() < deadline:
        time.sleep(0.05)


def phase_crash(stack: Stack, item: str, trials: int, rng: random.Random, applicants: int) -> dict:
    load = Load(stack.base, item, applicants=applicants, staff=True)
    load.start()
    rows = []
    print(
        f"\n{'trial':>5} {'t (s)':>7} {'killed':<22} {'pid':>7} {'acked':>6} {'actions':>7} {'cut':>4}  check"
    )
    for trial in range(1, trials + 1):
        # Kill while work is going on: wait until the clients have had a few answers since the
        # last kill (a new gunicorn worker takes seconds to boot on a busy machine), then a random
        # moment later.
        wait_for_progress(load.stats, 3, timeout=90)
        time.sleep(rng.uniform(0.1, 1.5))
        target = rng.choices(["gunicorn worker", "celery pool process", "celery worker"], weights=[6, 2, 2])[
            0
        ]
        pid = 0
        if target == "gunicorn worker":
            workers = stack.children("web")
            if workers:
                pid = rng.choice(workers)
                os.kill(pid, signal.SIGKILL)  # a child of the gunicorn master this script started
        elif target == "celery pool process":
            pool = stack.children("worker")
            if pool:
                pid = rng.choice(pool)
                os.kill(pid, signal.SIGKILL)  # a pool child of the worker this script started
        else:
            pid = stack.procs["worker"].pid
            stack.kill_group("worker")  # the worker and its pool, as when its machine dies
            stack.start_worker()
        with load.stats.lock:
            cut = load.stats.retries["connection cut"]
            acked, actions = len(load.stats.acked_cases), len(load.stats.acked_actions)
        problems = check_acked(stack, load.stats)
        KILLS.append((time.time(), target))
        rows.append(
            {
                "trial": trial,
                "target": target,
                "pid": pid,
                "acked": acked,
                "ok": not problems,
                "problems": problems,
            }
        )
        print(
            f"{trial:>5} {time.monotonic() - load.t0:7.1f} {target:<22} {pid:>7} {acked:>6} {actions:>7} "
            f"{cut:>4}  {'ok' if not problems else 'FAIL ' + '; '.join(problems)[:200]}",
            flush=True,
        )
    time.sleep(2)
    load.join()
    log("load stopped; waiting for the jobs, then the final checks")
    final = final_checks(stack, load.stats)
    return {
        "trials": trials,
        "trials_ok": sum(1 for r in rows if r["ok"]),
        "kills": Counter(r["target"] for r in rows),
        "acknowledged_cases": len(load.stats.acked_cases),
        "connection_cuts_retried": load.stats.retries["connection cut"],
        "statuses": dict(load.stats.statuses),
        **final,
    }


def timeline_table(load: Load, bucket: float = 1.0) -> list[str]:
    by = defaultdict(Counter)
    for t, _kind, status, _secs in load.timeline:
        by[int(t // bucket)][status] += 1
    lines = []
    for b in sorted(by):
        c = by[b]
        lines.append(f"{b * bucket:6.0f}s  " + "  ".join(f"{s}:{n}" for s, n in sorted(c.items())))
    return lines


def phase_pg(stack: Stack, item: str, applicants: int) -> dict:
    load = Load(stack.base, item, applicants=applicants, staff=False, readers=3)
    load.start()
    time.sleep(4)
    before = len(load.stats.acked_cases)
    t_stop = time.monotonic() - load.t0
    stack.pg_ctl("-m", "fast", "-w", "stop")
    time.sleep(5)  # the outage
    stack.pg_ctl("-o", stack.pg_options(), "-l", str(stack.dir / "pgrun" / "pg.log"), "-w", "start")
    t_start = time.monotonic() - load.t0
    time.sleep(8)
    load.join()
    statuses = Counter(s for _t, _k, s, _d in load.timeline)
    after_ok = [t for t, _k, s, _d in load.timeline if t > t_start and s == 200]
    first_ok = min(after_ok) - t_start if after_ok else None
    late_fail = [s for t, _k, s, _d in load.timeline if t > t_start + 2 and s != 200]
    print("\nPostgreSQL restart: reads per second by status (0 = no answer, 599 = 503 without the page)")
    print(f"stopped at {t_stop:.1f}s, started again at {t_start:.1f}s")
    for line in timeline_table(load):
        print("  " + line)
    problems = []
    if statuses.get(500) or statuses.get(599) or statuses.get(0):
        problems.append(f"bad answers during the outage: {dict(statuses)}")
    if first_ok is None or late_fail:
        problems.append(f"did not recover: first 200 after {first_ok}, failures later: {len(late_fail)}")
    final = check_acked(stack, load.stats)
    with load.stats.lock:
        problems += final + [f"server answered: {u}" for u in load.stats.unexpected]
    return {
        "read_statuses": dict(statuses),
        "outage_seconds": round(t_start - t_stop, 1),
        "first_200_after_start_s": round(first_ok, 2) if first_ok is not None else None,
        "submissions_acknowledged": len(load.stats.acked_cases),
        "submissions_during_and_after": len(load.stats.acked_cases) - before,
        "applicant_retries_on_503": load.stats.retries["503"],
        "problems": problems,
    }


def phase_redis(stack: Stack, item: str, applicants: int) -> dict:
    first_case = stack.psql("SELECT coalesce(max(id), 0) FROM cases_case")[0][0]
    load = Load(stack.base, item, applicants=applicants, staff=False, readers=3)
    load.start()
    time.sleep(3)
    stack.stop_redis()
    t_stop = time.monotonic() - load.t0
    numbers_before = set(load.stats.acked_cases)
    time.sleep(12)
    numbers_during = set(load.stats.acked_cases) - numbers_before
    unsent_during = stack.psql("SELECT count(*) FROM cases_outboxmessage WHERE sent_at IS NULL")[0][0]
    kept_during = stack.psql("SELECT count(*) FROM core_deferredjob")[0][0]
    stack.start_redis()
    t_start = time.monotonic() - load.t0
    time.sleep(3)
    load.join()
    statuses = Counter(s for _t, _k, s, _d in load.timeline)
    during = [d for t, _k, s, d in load.timeline if t_stop < t < t_start]
    print("\nRedis stopped: reads per second by status")
    print(f"stopped at {t_stop:.1f}s, started again at {t_start:.1f}s")
    for line in timeline_table(load):
        print("  " + line)
    problems = []
    if set(statuses) - {200}:
        problems.append(f"reads not all 200 while Redis was down: {dict(statuses)}")
    if not numbers_during:
        problems.append("no submission acknowledged while Redis was down")
    final = final_checks(stack, load.stats, wait=90, after_case=first_case)
    problems += final.pop("problems")
    during.sort()
    return {
        "read_statuses": dict(statuses),
        "reads_during_outage": len(during),
        "read_p95_during_outage_ms": round(during[int(len(during) * 0.95)] * 1000, 1) if during else None,
        "submissions_during_outage": len(numbers_during),
        "outbox_unsent_during_outage": unsent_during,
        "jobs_kept_during_outage": kept_during,
        **final,
        "problems": problems,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--phases", default="crash,pg,redis")
    ap.add_argument("--applicants", type=int, default=3)
    ap.add_argument("--items", type=int, default=300)
    ap.add_argument("--web-workers", type=int, default=2)
    ap.add_argument("--pg-port", type=int, default=55432)
    ap.add_argument("--redis-port", type=int, default=56379)
    ap.add_argument("--web-port", type=int, default=58000)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--workdir", default=None, help="reuse a stack directory (kept data: faster setup)")
    ap.add_argument("--keep", action="store_true", help="keep the stack directory afterwards")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="yiwang-crash-"))
    workdir.mkdir(parents=True, exist_ok=True)
    stack = Stack(
        workdir,
        pg_port=args.pg_port,
        redis_port=args.redis_port,
        web_port=args.web_port,
        web_workers=args.web_workers,
    )
    summary: dict[str, object] = {"seed": seed, "load_before": os.getloadavg()[0]}
    try:
        log(f"stack in {workdir} (seed {seed})")
        stack.start_pg()
        stack.start_redis()
        started = time.monotonic()
        item = stack.prepare(args.items)
        log(f"prepared in {time.monotonic() - started:.0f}s; demo item {item}")
        stack.start_worker()
        stack.start_beat()
        stack.start_web()
        phases = [p.strip() for p in args.phases.split(",") if p.strip()]
        if "crash" in phases:
            log(f"phase crash: {args.trials} trials")
            summary["crash"] = phase_crash(stack, item, args.trials, rng, args.applicants)
        if "pg" in phases:
            log("phase pg: PostgreSQL restart under load")
            summary["pg"] = phase_pg(stack, item, args.applicants)
        if "redis" in phases:
            log("phase redis: Redis stopped under load")
            summary["redis"] = phase_redis(stack, item, args.applicants)
        summary["load_after"] = os.getloadavg()[0]
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave servers behind
        stack.stop_all()
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    failed = False
    print("\nResult")
    for name in ("crash", "pg", "redis"):
        if name not in summary:
            continue
        part = summary[name]
        problems = part.get("problems", [])
        failed |= bool(problems)
        extra = f"  trials ok {part['trials_ok']}/{part['trials']}" if name == "crash" else ""
        print(f"  {name:<6} {'PASS' if not problems else 'FAIL'}{extra}")
        for p in problems[:30]:
            print(f"         - {p}")
        if name == "crash" and part["trials_ok"] != part["trials"]:
            failed = True
    print(json.dumps(summary, ensure_ascii=False, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
