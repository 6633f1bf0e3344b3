"""docs/deploy.md's settings table names every environment variable the app reads, and
nothing that nobody reads: a variable added to settings.py without a row fails here."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEADING = "## Settings: every environment variable"


def variables_read() -> set[str]:
    settings = (ROOT / "webapp" / "settings.py").read_text()
    names = set(re.findall(r'env_(?:str|int|bool|float|optional)\(\s*"([A-Z0-9_]+)"', settings))
    names |= set(re.findall(r'"([A-Z0-9_]+)" in os\.environ', settings))  # refused, gone
    serve = (ROOT / "webapp" / "serve.py").read_text()
    names |= set(re.findall(r'env\.get\(\s*"([A-Z0-9_]+)"', serve))
    compose = (ROOT / "docker-compose.yml").read_text()
    names |= set(re.findall(r"\$\{([A-Z0-9_]+)", compose))
    return names


def variables_in_the_table() -> set[str]:
    text = (ROOT / "docs" / "deploy.md").read_text()
    section = text.split(HEADING, 1)[1].split("\n## ", 1)[0]
    first_cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for cell in first_cells for name in re.findall(r"`([A-Z0-9_]+)`", cell)}


def test_every_variable_read_has_a_row_and_every_row_is_read():
    read = variables_read()
    assert len(read) > 80 and {"SECRET_KEY_FALLBACKS", "WEB_CONCURRENCY"} <= read
    table = variables_in_the_table()
    assert sorted(read - table) == [], "read but not in docs/deploy.md's settings table"
    assert sorted(table - read) == [], "in the table but read by nothing"
