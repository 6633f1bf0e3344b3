"""The Dockerfile's CMD is valid exec form, and .dockerignore keeps secrets, the venv and
runtime data out of the build context (docker itself does not run in CI)."""

import fnmatch
import json
from pathlib import Path

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
