"""ml/ must stay free of Django, webapp and tasks so it runs and is tested with no database."""

import ast
from pathlib import Path

FORBIDDEN = {"django", "webapp", "tasks", "celery", "rest_framework"}
ML_DIR = Path(__file__).resolve().parent.parent / "ml"


def imported_top_level_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_ml_imports_no_django_webapp_or_tasks() -> None:
    files = sorted(ML_DIR.rglob("*.py"))
    assert files, "ml/ has no Python files"
    offenders = {
        str(f.relative_to(ML_DIR.parent)): sorted(imported_top_level_names(f) & FORBIDDEN)
        for f in files
    }
    assert {f: bad for f, bad in offenders.items() if bad} == {}


def test_the_web_process_loads_neither_torch_nor_the_task_modules() -> None:
    """Importing the URL conf (every view, service and selector) in a fresh interpreter
    loads no torch (seconds and ~1 GB per web worker) and no tasks module: the web touches
    tasks only when it enqueues, and then lazily."""
    import json
    import os
    import subprocess
    import sys

    code = (
        "import json, sys, django; django.setup(); import webapp.urls; "
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('torch', 'torchvision', 'tasks'))))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ML_DIR.parent, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
