"""The Dockerfile's CMD is valid exec form, .dockerignore keeps secrets, the venv and
runtime data out of the build context, and the static files it collects are not hidden by a
volume (docker itself does not run in CI)."""

import fnmatch
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path, PurePosixPath

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _instruction(name: str) -> list[str]:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    return [line[len(name) + 1 :] for line in lines if line.startswith(f"{name} ")]


def test_cmd_is_a_json_array_so_docker_runs_it_without_a_shell() -> None:
    (cmd,) = _instruction("CMD")
    assert json.loads(cmd) == ["python", "-m", "webapp.serve"]


def _ignored(path: str) -> bool:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(
        fnmatch.fnmatch(prefix, pattern.removeprefix("**/"))
        or fnmatch.fnmatch(prefix.rsplit("/", 1)[-1], pattern.removeprefix("**/"))
        for pattern in patterns
        for prefix in prefixes
    )


def test_secrets_venv_runtime_data_and_git_stay_out_of_the_build_context() -> None:
    for path in (".env", ".git/config", ".venv/bin/python", "var/db.sqlite3", "media/x.png",
                 "ml/__pycache__/train.cpython-311.pyc"):  # fmt: skip
        assert _ignored(path), path


def test_the_code_the_image_needs_is_still_sent() -> None:
    for path in ("pyproject.toml", "constraints.txt", "manage.py", "webapp/serve.py",
                 "ml/train.py", "webapp/settings.py", "tasks/celery.py", "templates/base.html",
                 "static/js/label.js"):  # fmt: skip
        assert not _ignored(path), path


def _image_environment() -> dict[str, str]:
    """The variables the Dockerfile's ENV instructions set."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    env = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(pair.split("=", 1) for pair in shlex.split(line[4:]))
    return env


def test_static_files_are_collected_where_no_compose_volume_hides_them() -> None:
    """Docker copies an image's files into a named volume only when the volume is new: with
    STATIC_ROOT under glitchlab-var, every release after the first served the first one's
    JS and CSS (and a 404 for files it added). The paths are the settings' own, read with
    the image's environment (the folders are not made here)."""
    paths = subprocess.run(
        [sys.executable, "-c", "import pathlib; pathlib.Path.mkdir = lambda *a, **k: None; "
         "import webapp.settings as s; print(s.VAR_DIR); print(s.STATIC_ROOT)"],
        cwd=ROOT, capture_output=True, text=True, check=True,
        env={**os.environ, **_image_environment(), "DEBUG": "false", "SECRET_KEY": "build-only"},
    ).stdout.split()  # fmt: skip
    var_dir, static_root = (PurePosixPath(path) for path in paths)
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    mounted = {
        PurePosixPath(volume.split(":")[1])
        for name in ("web", "worker-gpu", "worker", "beat")
        for volume in services[name].get("volumes", [])
    }
    assert any(var_dir.is_relative_to(target) for target in mounted)  # state is kept
    assert not any(static_root.is_relative_to(target) for target in mounted), static_root
    assert "collectstatic" in (ROOT / "Dockerfile").read_text()
