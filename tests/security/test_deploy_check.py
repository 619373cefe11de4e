"""`yiwang check --deploy` is clean with the production environment of docs/deployment.md."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PRODUCTION_ENV = {
    "SECRET_KEY": "k" * 20 + "-a-long-random-production-secret-key-0123456789",
    "DEBUG": "0",
    "ALLOWED_HOSTS": "zwfw.example.gov.cn",
    "YIWANG_SECURE_COOKIES": "1",
    "YIWANG_TRUST_PROXY": "1",
}


def _check(tmp_path: Path, extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and not k.startswith("YIWANG_HSTS")}
    env.update(extra, YIWANG_DATA_DIR=str(tmp_path))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "yiwang", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_is_clean_in_production(tmp_path: Path) -> None:
    result = _check(tmp_path, PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_fails_on_the_embedded_default(tmp_path: Path) -> None:
    """The check can fail: without the production switches it warns (W004 HSTS, W012 cookies...)."""
    result = _check(tmp_path, {})
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout
    assert "security.W012" in result.stderr + result.stdout
