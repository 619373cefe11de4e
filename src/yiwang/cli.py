"""The ``yiwang`` console command: Django's management commands under the platform's settings.

``yiwang generate-province --items 70000``, ``yiwang import-items list.xlsx``,
``yiwang verify-audit``, ``yiwang migrate``, ``yiwang runserver`` ...
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    from django.core.management import execute_from_command_line

    args = list(argv if argv is not None else sys.argv[1:])
    # Our own commands read better with hyphens (generate-province); Django modules use underscores.
    if args and not args[0].startswith("-"):
        args[0] = args[0].replace("-", "_")
    execute_from_command_line(["yiwang", *args])


if __name__ == "__main__":
    main()
