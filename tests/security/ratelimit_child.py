"""One of the separate processes of tests/security/test_rate_limits_processes.py (not a test).

Sets Django up from the environment it is given, answers "ready" once warm, waits for "go" on
stdin, then makes its requests (or counts its hits) as fast as it can and prints the status
codes (or the waits) as one JSON line.

    python tests/security/ratelimit_child.py request URL N ADDRESS WARM_URL
    python tests/security/ratelimit_child.py hit BUCKET N LIMIT
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")


def main(argv: list[str]) -> None:
    import django

    django.setup()
    from django.test import Client
    from django.test.utils import setup_test_environment

    from yiwang.core import security

    setup_test_environment()  # the test client's host name is allowed
    mode, target, n = argv[0], argv[1], int(argv[2])
    if mode == "request":
        client = Client(REMOTE_ADDR=argv[3])
        client.get(argv[4])  # warm: URLs, templates, a connection, on a page not counted
        ready_and_wait()
        results = [client.get(target).status_code for _ in range(n)]
    else:
        limit = int(argv[3])
        security.hit(f"warm:{target}", 1, 60)
        ready_and_wait()
        results = [security.hit(target, limit, 60) for _ in range(n)]
    print(json.dumps(results), flush=True)


def ready_and_wait() -> None:
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        raise SystemExit("no go")


if __name__ == "__main__":
    main(sys.argv[1:])
