"""Serve the platform with gunicorn (several worker processes), the way it runs in production.

``runserver`` is single-threaded debug tooling; the demo and the benchmarks use this instead.
"""

from __future__ import annotations

import os
import sys

from django.core.management.base import BaseCommand


def serving_address(host: str, port: int) -> str:
    """The address a browser on this machine reaches the server at (a wildcard bind: loopback)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    return f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}"


class Command(BaseCommand):
    help = "用 gunicorn（多个工作进程）在 HOST:PORT 上提供一网服务。"

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("YIWANG_WORKERS", (os.cpu_count() or 1) * 2 + 1)),
        )
        parser.add_argument("--threads", type=int, default=int(os.environ.get("YIWANG_THREADS", 1)))
        parser.add_argument("--access-log", action="store_true")

    def handle(self, *args, host, port, workers, threads, access_log, **options):
        argv = [
            "gunicorn",
            "yiwang.wsgi:application",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--timeout",
            "60",
            "--graceful-timeout",
            "10",
            # A request gunicorn refuses before Django (a request line over 4,094 bytes, bad
            # headers) gets the platform's own 400 page (core/workers.py). Several threads per
            # worker need the threaded worker, as with gunicorn's own classes.
            "--worker-class",
            "yiwang.core.workers.ThreadWorker" if threads > 1 else "yiwang.core.workers.SyncWorker",
        ]
        # Documents issued by this server carry its address in their QR codes unless the
        # deployment names its public one (settings.YIWANG_PUBLIC_URL).
        if not os.environ.get("YIWANG_PUBLIC_URL"):
            os.environ["YIWANG_PUBLIC_URL"] = serving_address(host, port)
        if access_log:
            argv += ["--access-logfile", "-"]
        # Hand the process over to gunicorn: Ctrl-C and signals then reach it directly.
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        os.execv(gunicorn, argv)
