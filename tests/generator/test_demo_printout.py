"""What `make demo` prints: Chinese lines, with the addresses of the site it actually serves."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from yiwang.catalog.generator import GenerationReport
from yiwang.catalog.management.commands.generate_province import PHASE_NAMES, print_report
from yiwang.catalog.management.commands.load_demo import CITY_PORTAL_PORT, Command, site_url
from yiwang.core.demo import DemoExtras

ROOT = Path(__file__).resolve().parents[2]


def _extras_printout(host: str, port: int) -> str:
    out = io.StringIO()
    command = Command(stdout=out)
    command.site = site_url(host, port)
    command.print_extras(
        DemoExtras(
            people=[("linxf", "pw", "自然人")],
            staff=[("slr", "pw", "受理人员")],
            cases={"已受理": "FJ-1"},
            city_portal=("city-fz", "secret"),
            admins_with_totp=["admin"],
        )
    )
    return out.getvalue()


@pytest.mark.parametrize(("host", "port", "site"), [("127.0.0.1", 8123, "http://127.0.0.1:8123"),
                                                     ("0.0.0.0", 9000, "http://127.0.0.1:9000")])  # fmt: skip
def test_single_sign_on_hint_uses_the_served_port(host, port, site):
    text = _extras_printout(host, port)
    assert f"--issuer {site}/o" in text
    assert f"--port {CITY_PORTAL_PORT}" in text
    assert f"{site}/workbench/" in text
    assert ":8000" not in text or port == 8000


def test_printout_lines_are_chinese():
    text = _extras_printout("127.0.0.1", 8000)
    report = GenerationReport(province="350000")
    report.seconds = {name: 1.0 for name in PHASE_NAMES}
    lines: list[str] = []
    print_report(lines.append, report, 3.2)
    for line in [*text.splitlines(), *lines]:
        if set(line.strip()) <= {"="}:
            continue
        assert re.search(r"[\u4e00-\u9fff]", line), line
    assert not any(name in "".join(lines) for name in PHASE_NAMES)  # phases under Chinese names


def test_make_demo_passes_its_address_to_load_demo():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    demo = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "load_demo --host $(HOST) --port $(PORT)" in demo
    assert "serve --host $(HOST) --port $(PORT)" in demo
    echoed = [line for line in demo.splitlines() if "@echo" in line]
    assert echoed and all(re.search(r"[\u4e00-\u9fff]", line) for line in echoed)
