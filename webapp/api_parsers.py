"""The API's JSON parser: DRF's, with a bound on how deeply a body may nest.

Python's json module recurses once per level: a body of 100,000 nested brackets (200 KB)
ran it out of stack and the RecursionError became a 500. No request of this API nests
more than a few levels, so anything deeper than MAX_JSON_DEPTH is refused as a 400 before
it is parsed.
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding  # type: ignore[attr-defined]  # stubs lack it
from rest_framework.utils import json

MAX_JSON_DEPTH = 32

# A JSON string (brackets inside it do not nest) or a bracket.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def json_nesting_exceeds(text: str, limit: int) -> bool:
    """Whether any value in `text` (JSON, well-formed or not) opens more than `limit`
    arrays or objects inside one another."""
    if text.count("[") + text.count("{") <= limit:  # every vote and form: one pass in C
        return False
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif token in ("]", "}"):
            depth -= 1
    return False


class BoundedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = get_encoding(parser_context or {})
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if json_nesting_exceeds(text, MAX_JSON_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels")
        try:
            parse_constant = json.strict_constant if self.strict else None
            return json.loads(text, parse_constant=parse_constant)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
