"""``make stack``: yiwang as it runs in production, on one machine (docs/deployment.md).

    python deploy/stack.py            # prepare, then run in the foreground; Ctrl-C stops everything
    python deploy/stack.py --detach   # the same in the background (log: $STACK_DATA_DIR/stack.log)
    python deploy/stack.py --stop     # stop a detached stack (make stack-stop)
    python deploy/stack.py --status   # exit 0 when a stack answers on STACK_PORT

Prepares, once per database and then only topping up: a dedicated PostgreSQL database
(``STACK_DB``, migrated), the province generator's data (``STACK_ITEMS``, 70,000 by default),
the demo accounts and the load-test accounts, cases and plan (``bench/loadtest/fixtures.py``);
collects the static files (hashed names, served by WhiteNoise). Then runs, each as its own process
group so that one Ctrl-C reaches only this launcher, which stops them in order:

- ``yiwang serve``: gunicorn, ``STACK_WORKERS`` (CPUs + 1) sync workers, on STACK_HOST:STACK_PORT
- ``celery -A yiwang worker`` (``STACK_CELERY_CONCURRENCY``, 2) on Redis ``STACK_REDIS``
- ``celery -A yiwang beat``: the periodic jobs of settings.CELERY_BEAT_SCHEDULE (exactly one)

Production settings: DEBUG off, SECRET_KEY from the environment (when unset, one is generated
once into ``$STACK_DATA_DIR/stack_secret_key`` and handed to every process through the
environment, as a deployment's secret store would), manifest static files, trusted proxy headers
(the load test sends X-Forwarded-For like the province's load balancer). Cookies are not marked
Secure because there is no TLS on the loopback. If a process dies, the launcher stops the rest
and exits non-zero: a benchmark must not go on with a missing part.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DATA_DIR = Path(os.environ.get("STACK_DATA_DIR", ROOT / "var" / "stack")).resolve()
PG = os.environ.get("STACK_PG", "postgres://postgres@127.0.0.1:5432")
DB = os.environ.get("STACK_DB", "yiwang_stack")
REDIS = os.environ.get("STACK_REDIS", "redis://127.0.0.1:6379/9")
HOST = os.environ.get("STACK_HOST", "127.0.0.1")
PORT = int(os.environ.get("STACK_PORT", "8100"))
# One worker more than CPUs, not gunicorn's usual 2 × CPUs + 1: PostgreSQL, Celery and the load
# generator share this machine, so more web processes than that only take turns at cold CPU
# caches, and one fewer leaves a CPU idle while a worker waits on the database.
WORKERS = int(os.environ.get("STACK_WORKERS", (os.cpu_count() or 1) + 1))
THREADS = int(os.environ.get("STACK_THREADS", "1"))
CELERY_CONCURRENCY = int(os.environ.get("STACK_CELERY_CONCURRENCY", "2"))
PID_FILE = DATA_DIR / "stack.pid"
LOG_FILE = DATA_DIR / "stack.log"
PLAN = DATA_DIR / "loadtest.json"
STOP_SECONDS = 20


def say(msg: str) -> None:
    print(f"[stack] {msg}", flush=True)


def url() -> str:
    return f"http://{HOST}:{PORT}"


def answers(timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url()}/hello/", timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


def stack_env() -> dict[str, str]:
    env = dict(os.environ)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    if not env.get("SECRET_KEY"):
        key_file = DATA_DIR / "stack_secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(50))
            key_file.chmod(0o600)
        env["SECRET_KEY"] = key_file.read_text().strip()
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "yiwang.settings",
            "DATABASE_URL": f"{PG}/{DB}",
            "REDIS_URL": REDIS,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "YIWANG_DATA_DIR": str(DATA_DIR),
            "DEBUG": "0",
            "YIWANG_MANIFEST_STATIC": "1",
            "YIWANG_TRUST_PROXY": "1",
            "ALLOWED_HOSTS": env.get("ALLOWED_HOSTS", f"{HOST},localhost,127.0.0.1"),
            "YIWANG_PUBLIC_URL": env.get("YIWANG_PUBLIC_URL", url()),
            "LOG_LEVEL": env.get("LOG_LEVEL", "WARNING"),
            "LOADTEST_PLAN": str(PLAN),
        }
    )
    env.pop("YIWANG_SQLITE_PATH", None)
    return env


def run(argv: list[str], env: dict[str, str]) -> None:
    subprocess.run(argv, env=env, cwd=ROOT, check=True)


def ensure_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB]).fetchone():
            say(f"creating database {DB}")
            conn.execute(f'CREATE DATABASE "{DB}"')


def prepare(env: dict[str, str]) -> None:
    ensure_database()
    yiwang = str(BIN / "yiwang")
    say("migrate")
    run([yiwang, "migrate", "--no-input", "-v0"], env)
    say("collectstatic (manifest)")
    run([yiwang, "collectstatic", "--no-input", "-v0"], env)
    if os.environ.get("STACK_FIXTURES", "1") != "0":
        say(
            f"data: province ({os.environ.get('STACK_ITEMS', '70000')} items, once), demo and load-test accounts"
        )
        # Jobs in-process for the fixtures: the backlog's notices (PDFs) are made now, not left
        # queued for the Celery worker to work off during the load test.
        fixtures_env = {**env, "CELERY_TASK_ALWAYS_EAGER": "1"}
        run(
            [sys.executable, str(ROOT / "bench" / "loadtest" / "fixtures.py"), "--out", str(PLAN)],
            fixtures_env,
        )


def processes() -> dict[str, list[str]]:
    celery = str(BIN / "celery")
    return {
        "web": [
            str(BIN / "yiwang"), "serve", "--host", HOST, "--port", str(PORT),
            "--workers", str(WORKERS), "--threads", str(THREADS),
        ],
        "worker": [
            celery, "-A", "yiwang", "worker", "-l", "warning", "-n", f"stack-{PORT}@%h",
            "--concurrency", str(CELERY_CONCURRENCY),
        ],
        "beat": [
            celery, "-A", "yiwang", "beat", "-l", "warning",
            "-s", str(DATA_DIR / "celerybeat-schedule"), "--pidfile", str(DATA_DIR / "celerybeat.pid"),
        ],
    }  # fmt: skip


class Stack:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.children: dict[str, subprocess.Popen] = {}
        self.stopping = False

    def start(self) -> None:
        for name, argv in processes().items():
            # Own process group: a terminal's Ctrl-C reaches the launcher only, which then stops
            # the children in order (web first, so no request lands on a half-stopped stack).
            self.children[name] = subprocess.Popen(argv, env=self.env, cwd=ROOT, start_new_session=True)
            say(f"{name}: pid {self.children[name].pid}  {' '.join(argv[1:4])} ...")

    def stop(self, *_args) -> None:
        if self.stopping:
            return
        self.stopping = True
        say("stopping: web, worker, beat")
        for name in ("web", "worker", "beat"):
            p = self.children.get(name)
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)  # gunicorn and celery: graceful shutdown
        deadline = time.monotonic() + STOP_SECONDS
        for name, p in self.children.items():
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"{name} did not stop in {STOP_SECONDS} s: SIGKILL")
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        # The groups may hold children of a child (gunicorn and celery workers): none may outlive us.
        for p in self.children.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
        say("stopped")

    def watch(self) -> int:
        deadline = time.monotonic() + 90
        while not answers():
            if self.dead() or time.monotonic() > deadline:
                say("the web server did not come up")
                self.stop()
                return 1
            time.sleep(0.5)
        PID_FILE.write_text(str(os.getpid()))
        say(f"ready: {url()}/  (workers {WORKERS}, threads {THREADS}; database {DB}; Redis {REDIS})")
        say("Ctrl-C (or make stack-stop) stops web, worker and beat")
        try:
            while not self.stopping:
                name = self.dead()
                if name:
                    say(f"{name} exited with {self.children[name].returncode}: stopping the stack")
                    self.stop()
                    return 1
                time.sleep(1)
            return 0
        finally:
            PID_FILE.unlink(missing_ok=True)

    def dead(self) -> str | None:
        return next((n for n, p in self.children.items() if p.poll() is not None), None)


def foreground() -> int:
    if answers():
        say(f"a stack already answers on {url()}; stop it first (make stack-stop)")
        return 1
    env = stack_env()
    prepare(env)
    stack = Stack(env)
    signal.signal(signal.SIGINT, stack.stop)
    signal.signal(signal.SIGTERM, stack.stop)
    stack.start()
    return stack.watch()


def detach() -> int:
    """Start the foreground launcher in its own session, logging to stack.log; wait until ready."""
    if answers():
        say(f"a stack already answers on {url()}")
        return 0
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOG_FILE, "ab") as log:
        p = subprocess.Popen(
            [sys.executable, __file__], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    say(f"starting in the background (pid {p.pid}, log {LOG_FILE}); the first run builds the province")
    while not (answers() and PID_FILE.exists()):
        if p.poll() is not None:
            say(f"the stack failed (exit {p.returncode}); see {LOG_FILE}")
            return 1
        time.sleep(2)
    say(f"ready: {url()}/")
    return 0


def stop() -> int:
    if not PID_FILE.exists():
        say("no stack running (no pid file)")
        return 0
    pid = int(PID_FILE.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        PID_FILE.unlink(missing_ok=True)
        say("no stack running (stale pid file)")
        return 0
    deadline = time.monotonic() + STOP_SECONDS + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            say("stopped")
            return 0
        time.sleep(0.5)
    say(f"the launcher (pid {pid}) is still running")
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description="yiwang production-like stack on one machine")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--detach", action="store_true", help="run in the background")
    group.add_argument("--stop", action="store_true", help="stop a detached stack")
    group.add_argument("--status", action="store_true", help="exit 0 if a stack answers")
    args = parser.parse_args()
    if args.stop:
        return stop()
    if args.status:
        return 0 if answers() else 1
    if args.detach:
        return detach()
    return foreground()


if __name__ == "__main__":
    sys.exit(main())
