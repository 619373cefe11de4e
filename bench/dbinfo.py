"""What the benchmark database holds: item count and a fixed sample of published codes.
Prints one JSON object. Run by run_all.py with YIWANG_DATA_DIR set."""

from __future__ import annotations

import json
import os
import random
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")

import django  # noqa: E402

django.setup()

from yiwang.catalog.models import ServiceItem, ServiceItemVersion  # noqa: E402


def main(sample: int) -> None:
    items = ServiceItem.objects.count()
    codes = list(
        ServiceItemVersion.objects.filter(is_current=True).order_by("code").values_list("code", flat=True)
    )
    rng = random.Random(42)
    print(
        json.dumps(
            {"items": items, "published": len(codes), "codes": rng.sample(codes, min(sample, len(codes)))}
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
