"""`make demo` runs in debug mode (the settings' default is off, which needs a secret key
and HTTPS): scripts/demo.sh turns DEBUG on before its first Django or Celery command."""

from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "scripts" / "demo.sh"


def test_demo_turns_debug_on_before_any_django_command():
    code = [line.strip() for line in DEMO.read_text().splitlines()]
    debug = code.index('export DEBUG="${DEBUG:-true}"')
    django = [i for i, line in enumerate(code) if line.startswith(('"$PY" manage.py', '"$CELERY"'))]
    assert len(django) >= 5 and debug < min(django)
