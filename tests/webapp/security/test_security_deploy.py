"""Production settings (DEBUG off, secrets from the environment) pass `check --deploy`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def manage(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    environment.update(GLITCHLAB_VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    # Only Django's security checks decide here: other apps' warnings (e.g. drf-spectacular
    # schema hints) are not about deployment safety and have their own owners.
    result = manage(
        "check",
        "--deploy",
        "--tag",
        "security",
        "--fail-level",
        "WARNING",
        tmp_path=tmp_path,
        DEBUG="false",
        SECRET_KEY="x" * 20 + "production-secret-from-the-environment-" + "y" * 20,
        ALLOWED_HOSTS="glitchlab.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_settings_would_not_pass(tmp_path):
    result = manage(
        "check",
        "--deploy",
        "--tag",
        "security",
        "--fail-level",
        "WARNING",
        tmp_path=tmp_path,
        DEBUG="1",
    )
    assert result.returncode != 0 and "security.W018" in result.stderr + result.stdout
