"""docs/deploy.md's settings table names every environment variable the app reads, and
nothing that nobody reads: a variable added to settings.py without a row fails here. Its
default column says the default the code gives, where the code gives a constant."""

import ast
import operator
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEADING = "## Settings: every environment variable"
READERS = ("webapp/settings.py", "webapp/serve.py")  # the files that read the environment
HELPERS = {"env_str", "env_int", "env_bool", "env_float", "env_optional"}  # settings.py's
ENVIRON = {"os.environ", "environ", "env"}  # serve.py's options() reads `env`, os.environ


@dataclass(frozen=True)
class Read:
    """One read of the environment: the variable (None: not a literal name), its default
    (the expression's source; None when it has none), where."""

    name: str | None
    default: ast.expr | None
    where: str


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _read_of(node: ast.AST) -> tuple[ast.expr | None, ast.expr | None] | None:
    """(name, default) when `node` reads the environment: an env_*() helper,
    os.environ.get / os.getenv / os.environ[...] / "X" in os.environ; else None."""
    if isinstance(node, ast.Call):
        function = _dotted(node.func)
        getters = {f"{e}.{verb}" for e in ENVIRON for verb in ("get", "pop")} | {"os.getenv"}
        if function in HELPERS or function in getters:
            name = node.args[0] if node.args else None
            takes_default = function != "env_optional" and len(node.args) > 1
            return name, node.args[1] if takes_default else None
    if isinstance(node, ast.Subscript) and _dotted(node.value) in ENVIRON:
        return node.slice, None
    if isinstance(node, ast.Compare) and any(_dotted(c) in ENVIRON for c in node.comparators):
        return node.left, None
    return None


def reads_of(path: str) -> list[Read]:
    tree = ast.parse((ROOT / path).read_text())
    # The helpers' own bodies read a variable named by their caller: their calls are counted
    helpers = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in HELPERS]
    inside = {id(node) for helper in helpers for node in ast.walk(helper)}
    found = []
    for node in ast.walk(tree):
        read = _read_of(node)
        if read is None or id(node) in inside:
            continue
        name, default = read
        literal = isinstance(name, ast.Constant) and isinstance(name.value, str)
        where = f"{path}:{getattr(node, 'lineno', '?')}"
        found.append(Read(name.value if literal else None, default, where))  # type: ignore[union-attr]
    return found


def variables_read() -> set[str]:
    names = {read.name for path in READERS for read in reads_of(path) if read.name}
    compose = (ROOT / "docker-compose.yml").read_text()
    names |= set(re.findall(r"\$\{([A-Z0-9_]+)", compose))
    return names


def table_rows() -> dict[str, str]:
    """Each variable of the table and its default cell; a row of several variables gives
    their defaults in order, comma-separated (`0.8, 2`)."""
    text = (ROOT / "docs" / "deploy.md").read_text()
    section = text.split(HEADING, 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = line.split("|")
        names = re.findall(r"`([A-Z0-9_]+)`", cells[1])
        defaults = [d.strip() for d in cells[2].split(",")]
        for i, name in enumerate(names):
            several = len(names) > 1 and len(defaults) == len(names)
            rows[name] = defaults[i] if several else cells[2].strip()
    return rows


_ARITHMETIC = {ast.Mult: operator.mul, ast.Add: operator.add, ast.Sub: operator.sub}


def constant(node: ast.expr) -> object:
    """The default's value when it is a constant (`300`, `6 * 3600`, `"x"`); ValueError when
    it depends on anything else (another setting, DEBUG, the CPU count)."""
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        return _ARITHMETIC[type(node.op)](constant(node.left), constant(node.right))
    return ast.literal_eval(node)


def cell_says(cell: str, value: object) -> bool:
    """Whether a default cell states `value`: a boolean or a number first (`300 (5 min)`),
    an empty string as empty / none / off, a string anywhere in it."""
    plain = cell.replace("`", "").strip().lower()
    if isinstance(value, bool):
        return plain.split(" ", 1)[0].strip(",;:") == str(value).lower()
    if isinstance(value, int | float):
        number = re.match(r"-?[\d,]*\.?\d+", plain)
        return bool(number) and float(number.group(0).replace(",", "")) == float(value)
    if value == "":
        return plain.startswith(("empty", "none", "unset", "off"))
    return str(value).lower() in plain


def test_every_variable_read_has_a_row_and_every_row_is_read():
    read = variables_read()
    assert len(read) > 80 and {"SECRET_KEY_FALLBACKS", "WEB_CONCURRENCY"} <= read
    table = set(table_rows())
    assert sorted(read - table) == [], "read but not in docs/deploy.md's settings table"
    assert sorted(table - read) == [], "in the table but read by nothing"


def test_every_read_names_its_variable_with_a_literal():
    """A name built at run time could be missing from the table unnoticed."""
    assert [r.where for path in READERS for r in reads_of(path) if r.name is None] == []


def test_a_read_by_os_environ_or_getenv_is_found_too():
    """Only env_*() calls were found: os.environ.get("X") in settings.py passed unnoticed."""
    tree = ast.parse(
        'A = os.environ.get("X_GET", "1")\nB = os.getenv("X_GETENV")\nC = os.environ["X_ITEM"]'
    )
    found = {
        _read_of(node)[0].value  # type: ignore[index, union-attr]
        for node in ast.walk(tree)
        if _read_of(node) is not None
    }
    assert found == {"X_GET", "X_GETENV", "X_ITEM"}


def test_the_default_column_says_each_constant_default():
    """A default that depends on something else (DEBUG, another setting, the CPU count) is
    not compared: the cell says it in words."""
    rows = table_rows()
    wrong, compared = [], 0
    for path in READERS:
        for read in reads_of(path):
            if read.name is None or read.default is None:
                continue
            try:
                value = constant(read.default)
            except ValueError:
                continue
            compared += 1
            if not cell_says(rows[read.name], value):
                wrong.append(
                    f"{read.name}: {value!r} in {read.where}, {rows[read.name]!r} in the table"
                )
    assert compared > 60
    assert wrong == []
