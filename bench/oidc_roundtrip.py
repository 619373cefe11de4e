"""OIDC authorization-code round trips per second against ``yiwang serve`` (gunicorn), beside
Django's hello-world view on the same server in the same run.

One round trip, as a city platform drives it for a person already logged in at the province:
GET /o/authorize/ (session cookie, consent remembered) -> 302 with a code; POST /o/token/
(client_secret_basic + PKCE verifier) -> access token and RS256-signed ID token; GET /o/userinfo/
with the bearer token. The load generator is Python threads in a second process (each thread one
person's browser session), in interleaved rounds with /hello/; medians and the ratio are printed
and written to var/bench/results/oidc_roundtrip.md, and with ``--write-docs`` into
docs/benchmarks.md (bench/report.py).

Not a test. Environment: BENCH_ROUNDS (3), BENCH_SECONDS (5), BENCH_CONNECTIONS (4),
BENCH_OIDC_DATA_DIR (a fresh temporary directory; SQLite).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import report as bench_report  # noqa: E402

VENV_BIN = Path(sys.executable).parent
YIWANG = str(VENV_BIN / "yiwang")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "4"))
CLIENT_ID = "bench-city"
SECRET = "bench-city-secret-0123456789abcdef"
USERNAME, PASSWORD = "bench_person", "Bench-Password-2026!"
REDIRECT = "http://127.0.0.1:9/callback"  # never followed: the code is read from the Location header

SETUP = f"""
from django.contrib.auth import get_user_model
from yiwang.identity.models import Consent
from yiwang.identity.oidc.registration import register_client
app = register_client(client_id={CLIENT_ID!r}, client_secret={SECRET!r}, name="基准测试平台",
    redirect_uris=[{REDIRECT!r}], post_logout_redirect_uris=[], allowed_scopes="openid profile")
User = get_user_model()
user = User.objects.filter(username={USERNAME!r}).first() or User.objects.create_user({USERNAME!r}, password={PASSWORD!r})
Consent.objects.update_or_create(user=user, application=app, defaults={{"scopes": "openid profile"}})
"""


def env(data_dir: Path) -> dict[str, str]:
    e = dict(os.environ)
    e.update(YIWANG_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="yiwang.settings", DEBUG="0")
    e.pop("DATABASE_URL", None)  # SQLite in the data directory, no Redis: the embedded default
    e.pop("REDIS_URL", None)
    e.setdefault("LOG_LEVEL", "ERROR")
    return e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if requests.get(base + "/hello/", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.3)
    raise RuntimeError("yiwang serve did not answer /hello/ in time")


def login(base: str) -> requests.Session:
    s = requests.Session()
    page = s.get(f"{base}/auth/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    r = s.post(
        f"{base}/auth/login/",
        data={"csrfmiddlewaretoken": token, "login": USERNAME, "password": PASSWORD, "next": "/"},
        headers={"Referer": f"{base}/auth/login/"},
        allow_redirects=False,
        timeout=10,
    )
    if r.status_code != 302:
        raise RuntimeError(f"login failed: {r.status_code}")
    return s


def round_trip(base: str, browser: requests.Session, rp: requests.Session) -> None:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": "openid profile",
        "state": "s",
        "nonce": "n",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    r = browser.get(f"{base}/o/authorize/?{urlencode(params)}", allow_redirects=False, timeout=30)
    code = parse_qs(urlparse(r.headers["Location"]).query)["code"][0]
    t = rp.post(
        f"{base}/o/token/",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        auth=(CLIENT_ID, SECRET),
        timeout=30,
    )
    t.raise_for_status()
    u = rp.get(
        f"{base}/o/userinfo/", headers={"Authorization": f"Bearer {t.json()['access_token']}"}, timeout=30
    )
    u.raise_for_status()


def hello(base: str, browser: requests.Session, rp: requests.Session) -> None:
    rp.get(f"{base}/hello/", timeout=30).raise_for_status()


def measure(base: str, action, browsers: list[requests.Session]) -> float:
    count = [0] * len(browsers)
    errors: list[BaseException] = []
    stop = time.perf_counter() + SECONDS

    def worker(i: int) -> None:
        rp = requests.Session()
        while time.perf_counter() < stop:
            try:
                action(base, browsers[i], rp)
                count[i] += 1
            except Exception as exc:  # noqa: BLE001 - counted and reported, not hidden
                errors.append(exc)
                return

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(browsers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{action.__name__}: {errors[0]!r}")
    return sum(count) / (time.perf_counter() - started)


def block(rounds: dict[str, list[float]], ratio: float, workers: int, load_start: str) -> str:
    """The figures of docs/benchmarks.md's OIDC block."""
    med = {k: statistics.median(v) for k, v in rounds.items()}
    return "\n".join(
        [
            f"- run: {bench_report.stamp()}; load average {load_start} at the start, {bench_report.load()} at the end",
            f"- `yiwang serve` (gunicorn, {workers} sync workers, SQLite) on 127.0.0.1; {CONNECTIONS} Python "
            f"threads in a second process, each one person's signed-in session; {ROUNDS} interleaved rounds "
            f"of {SECONDS:g} s",
            "",
            "| measure | rounds (per s) | median per s | ÷ hello |",
            "|---|---|---|---|",
            f"| baseline: hello-world requests | {', '.join(f'{x:.0f}' for x in rounds['hello'])} | "
            f"{med['hello']:.0f} | 1.00 |",
            f"| OIDC round trips (3 requests each) | {', '.join(f'{x:.1f}' for x in rounds['oidc'])} | "
            f"{med['oidc']:.1f} | {ratio:.3f} |",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write-docs", action="store_true", help="replace the block in docs/benchmarks.md")
    args = parser.parse_args()
    load_start = bench_report.load()
    data_dir = Path(os.environ.get("BENCH_OIDC_DATA_DIR") or tempfile.mkdtemp(prefix="yiwang-oidc-bench-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    e = env(data_dir)
    subprocess.run([YIWANG, "migrate", "-v", "0"], env=e, cwd=ROOT, check=True)
    subprocess.run([YIWANG, "shell", "-c", SETUP], env=e, cwd=ROOT, check=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    workers = int(e.get("YIWANG_WORKERS", (os.cpu_count() or 1) * 2 + 1))
    server = subprocess.Popen([YIWANG, "serve", "--host", "127.0.0.1", "--port", str(port)], env=e, cwd=ROOT)
    try:
        wait_ready(base)
        browsers = [login(base) for _ in range(CONNECTIONS)]
        # Warm-up: every worker imports, connects and loads the signing key once.
        measure_seconds = SECONDS
        globals()["SECONDS"] = 2.0
        measure(base, round_trip, browsers)
        measure(base, hello, browsers)
        globals()["SECONDS"] = measure_seconds
        rounds: dict[str, list[float]] = {"hello": [], "oidc": []}
        for i in range(ROUNDS):
            rounds["hello"].append(measure(base, hello, browsers))
            rounds["oidc"].append(measure(base, round_trip, browsers))
            print(
                f"round {i + 1}: hello {rounds['hello'][-1]:.0f}/s, OIDC {rounds['oidc'][-1]:.1f} round trips/s",
                flush=True,
            )
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        if not os.environ.get("BENCH_OIDC_DATA_DIR"):
            shutil.rmtree(data_dir, ignore_errors=True)
    ratios = [o / h for o, h in zip(rounds["oidc"], rounds["hello"], strict=True) if h]
    ratio = statistics.median(ratios)
    print(
        f"median: hello {statistics.median(rounds['hello']):.0f} req/s, OIDC {statistics.median(rounds['oidc']):.1f} "
        f"round trips/s ({3 * statistics.median(rounds['oidc']):.0f} req/s), ratio {ratio:.3f} × hello",
        flush=True,
    )
    bench_report.publish(
        "oidc_roundtrip", block(rounds, ratio, workers, load_start), write_docs=args.write_docs
    )


if __name__ == "__main__":
    main()
