"""CPU time per request in-process (Django's test client: the whole middleware stack and view,
no HTTP server): hello, the hot guide (cached), the cold guide (rendered) and the search page.

Unlike requests per second on a shared machine, CPU time does not count the time other jobs
hold the CPU, so the ratios are steady. Prints one JSON object; run by run_all.py."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402

from queries import QUERIES  # noqa: E402
from yiwang.catalog.models import ServiceItemVersion  # noqa: E402


def cost(client: Client, paths: list[str], repeat: int = 1) -> float:
    """Median CPU milliseconds per request over ``paths`` (each fetched ``repeat`` times)."""
    samples = []
    for _ in range(repeat):
        for p in paths:
            t = time.process_time()
            response = client.get(p)
            samples.append((time.process_time() - t) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{p}: HTTP {response.status_code}")
    return statistics.median(samples)


def main() -> None:
    client = Client(HTTP_HOST="127.0.0.1")
    codes = list(
        ServiceItemVersion.objects.filter(is_current=True).order_by("?").values_list("code", flat=True)[:400]
    )
    hot = [f"/items/{c}/" for c in codes[:100]]
    cold = [f"/items/{c}/" for c in codes[100:]]
    search = ["/search/?" + urllib.parse.urlencode({"q": q}) for _, q, f in QUERIES if q and not f]
    client.get("/hello/")
    cost(client, hot)  # render and cache the hot set, warm imports
    cost(client, search)
    result = {
        "hello_ms": cost(client, ["/hello/"] * 200),
        "guide_ms": cost(client, hot, repeat=3),
        "guide_cold_ms": cost(client, cold),
        "search_ms": cost(client, search, repeat=2),
    }
    result = {k: round(v, 3) for k, v in result.items()}
    for name in ("guide", "guide_cold", "search"):
        result[f"{name}_ratio"] = round(result["hello_ms"] / result[f"{name}_ms"], 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
