"""Run mypy over src and compare its errors with the committed baseline (mypy-baseline.txt).

The baseline lists the type errors the code had when mypy was introduced, normalised to
``path: message  [code]`` (no line numbers, so moving code does not change it; the same error
twice in one file is listed twice). It only shrinks:

- ``check`` (what ``make lint`` runs) fails on any error that is not in the baseline, and also
  when errors listed in the baseline are gone, so that a fixed error cannot come back unnoticed:
  run ``make mypy-baseline`` and commit the smaller file.
- ``update`` (``make mypy-baseline``) rewrites the file without the errors that are gone. It
  refuses to add new errors; ``--accept-new`` adds them (say why in the commit).

Exit status: 0 clean, 1 new or stale entries, 2 mypy itself failed.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "mypy-baseline.txt"
HEADER = (
    "# mypy errors accepted when type checking began; this file only shrinks (tools/mypy_baseline.py).\n"
    "# One error a line: path: message  [code]. Regenerate with `make mypy-baseline`.\n"
)
# path:line[:column]: error: message  [code]
ERROR = re.compile(
    r"^(?P<path>[^:\s]+\.pyi?):\d+(?::\d+)?: error: (?P<message>.*?)(?:  \[(?P<code>[a-z-]+)\])?$"
)
# Messages that quote a line number ("defined on line 12") would change whenever code moves.
LINE_REF = re.compile(r"\bline \d+\b")


class Errors(Counter[str]):
    """The multiset of errors in mypy's output, one key per error without its line number; `where`
    keeps mypy's own lines (with their line numbers) under each key, to show."""

    def __init__(self) -> None:
        super().__init__()
        self.where: dict[str, list[str]] = {}


def normalise(output: str) -> Errors:
    errors = Errors()
    for line in output.splitlines():
        match = ERROR.match(line)
        if match is None:
            continue
        path = match["path"].replace("\\", "/")
        message = LINE_REF.sub("line N", match["message"])
        key = f"{path}: {message}"
        if match["code"]:
            key += f"  [{match['code']}]"
        errors[key] += 1
        errors.where.setdefault(key, []).append(line)
    return errors


def cache_dir() -> Path:
    """var/mypy/<digest of pyproject.toml>: a fresh cache whenever the configuration changes.

    mypy keeps a module's errors in its cache and replays them while the module is unchanged, even
    when an override in the configuration (ignore_missing_imports, say) would now silence them.
    """
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    parent = ROOT / "var" / "mypy"
    if parent.is_dir():
        for old in parent.iterdir():
            if old.name != digest:
                shutil.rmtree(old, ignore_errors=True)
    return parent / digest


def run_mypy(python: str) -> Errors:
    """mypy over the configured files ([tool.mypy] in pyproject.toml), run from the project root."""
    command = [python, "-m", "mypy", "--no-error-summary", "--no-pretty", "--show-error-codes"]
    result = subprocess.run(
        [*command, "--cache-dir", str(cache_dir())],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    errors = normalise(result.stdout)
    # 0: no errors, 1: type errors; anything else (2) is a crash or a bad configuration.
    if result.returncode not in (0, 1) or (result.returncode == 1 and not errors):
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        print(f"mypy failed (exit {result.returncode}); nothing compared", file=sys.stderr)
        sys.exit(2)
    return errors


def read_baseline() -> Counter[str]:
    if not BASELINE.exists():
        return Counter()
    lines = BASELINE.read_text(encoding="utf-8").splitlines()
    return Counter(line for line in lines if line and not line.startswith("#"))


def write_baseline(errors: Counter[str]) -> None:
    lines = sorted(errors.elements())
    BASELINE.write_text(HEADER + "".join(f"{line}\n" for line in lines), encoding="utf-8")


def show(title: str, errors: Counter[str], where: dict[str, list[str]] | None = None) -> None:
    """The errors one a line; with `where`, mypy's lines for them (all of a key's occurrences)."""
    print(f"{title} ({sum(errors.values())}):")
    for key in sorted(errors):
        for line in (where or {}).get(key) or [key] * errors[key]:
            print(f"  {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", choices=["check", "update"], default="check")
    parser.add_argument(
        "--accept-new", action="store_true", help="update: also add errors not in the baseline"
    )
    parser.add_argument("--python", default=sys.executable, help="the interpreter whose mypy runs")
    args = parser.parse_args(argv)

    current = run_mypy(args.python)
    baseline = read_baseline()
    new = current - baseline
    gone = baseline - current
    rel = BASELINE.relative_to(ROOT)

    if args.command == "update":
        if new and not args.accept_new:
            show("new mypy errors, not added", new, current.where)
            print("Fix them, or run `make mypy-baseline ACCEPT_NEW=1` to accept them into the baseline.")
            return 1
        write_baseline(current)
        print(f"{rel}: {sum(current.values())} errors ({sum(gone.values())} gone, {sum(new.values())} added)")
        return 0

    if new:
        show("new mypy errors (not in the baseline)", new, current.where)
        print("Fix them: the baseline only shrinks.")
    if gone:
        show(f"errors in {rel} that are fixed", gone)
        print("Shrink the baseline: run `make mypy-baseline` and commit the file.")
    if new or gone:
        return 1
    print(f"mypy: no errors beyond the {sum(baseline.values())} in {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
