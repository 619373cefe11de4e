"""Fallback load generator when wrk is not installed: threads of keep-alive HTTP/1.1 clients in
their own process. Reads paths (one per line) on stdin; prints {"rps": ..., "errors": ...}."""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
import urllib.parse


def main(base: str, connections: int, seconds: float) -> None:
    paths = [p for p in sys.stdin.read().splitlines() if p]
    url = urllib.parse.urlsplit(base)
    deadline = time.perf_counter() + seconds
    counts = [0] * connections
    errors = [0] * connections

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        i = n
        while time.perf_counter() < deadline:
            i += 1
            try:
                conn.request("GET", paths[i % len(paths)])
                resp = conn.getresponse()
                resp.read()
                if resp.status >= 400:
                    errors[n] += 1
                counts[n] += 1
            except (OSError, http.client.HTTPException):
                errors[n] += 1
                conn.close()
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    print(json.dumps({"rps": sum(counts) / elapsed, "errors": sum(errors)}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
