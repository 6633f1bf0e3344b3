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
