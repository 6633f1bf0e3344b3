"""No script from data: the pages' JavaScript never parses a string as HTML (it builds
elements and sets textContent), and no template switches Django's escaping off. One
innerHTML with a class description ran a volunteer's script on every labelling page."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# Every way a script turns a string into markup or code.
JS_SINKS = re.compile(
    r"\binnerHTML\b|\bouterHTML\b|insertAdjacentHTML|document\.write|createContextualFragment"
    r"|DOMParser|\bsrcdoc\b|\beval\(|new Function\b|setTimeout\(\s*[\"'`]|setInterval\(\s*[\"'`]"
)
TEMPLATE_SINKS = re.compile(r"\|\s*safe\b|autoescape\s+off|\|\s*safeseq\b")


def offenders(folder: str, suffix: str, sinks: re.Pattern[str]) -> list[str]:
    files = sorted((ROOT / folder).rglob(f"*{suffix}"))
    assert files, f"no {suffix} files under {folder}/"
    return [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if sinks.search(line)
    ]


def test_no_script_in_static_parses_strings_as_html_or_code():
    assert offenders("static", ".js", JS_SINKS) == []


def test_no_template_turns_escaping_off():
    assert offenders("templates", ".html", TEMPLATE_SINKS) == []


def test_the_patterns_catch_what_they_are_for():
    for line in [
        "els.guideGrid.innerHTML = `<p>${c.description}</p>`;",
        'node.insertAdjacentHTML("beforeend", html);',
        "a.outerHTML = s;",
        'Object.assign(document.createElement("p"), { innerHTML: c.description });',
        'setTimeout("vote()", 10);',
    ]:
        assert JS_SINKS.search(line), line
    assert not JS_SINKS.search("els.feedback.replaceChildren(...parts);")
    assert TEMPLATE_SINKS.search("<p>{{ glitch_class.description|safe }}</p>")


# What people type (names, comments, notes, descriptions) as a template prints it.
USER_TEXT = re.compile(
    r"{{\s*[\w.]*(?:username|requested_by|actor|volunteer|\.text|\.note|description)\b[^}]*}}"
)
# Isolated: in a <bdi>, or first in an element of its own direction or a table cell.
ISOLATED = re.compile(r'(?:<bdi>|<[^<>]*\bdir="auto"[^<>]*>|<td>)$')


def unisolated_user_text() -> list[str]:
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines, start=1):
            for match in USER_TEXT.finditer(line):
                before = line[: match.start()]
                inside_attribute = before.count('"') % 2 == 1
                if not before and number > 1:  # first on its line: its element opened above
                    before = lines[number - 2]  # (a <textarea>'s first new line is markup)
                if not inside_attribute and not ISOLATED.search(before):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {match.group(0)}")
    return found


def test_text_people_type_is_isolated_from_the_page_around_it():
    """A right-to-left override (U+202E) in a username, a comment or a note flipped the
    page text after it ("by alice, 2026-12-06 UTC" read backwards); a right-to-left name
    moved the punctuation beside it. <bdi> and dir="auto" keep such text to itself."""
    assert unisolated_user_text() == []


def test_the_isolation_check_catches_what_it_is_for():
    assert USER_TEXT.search("<b>{{ comment.author.username }}</b>")
    assert USER_TEXT.search('by {{ e.actor|default:"someone" }},')
    assert not ISOLATED.search("<b>")
    assert ISOLATED.search('<p class="comment-text" dir="auto">')
    assert ISOLATED.search("Log out <bdi>")
