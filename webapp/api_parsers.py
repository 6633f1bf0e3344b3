"""The API's JSON parser: DRF's, with a bound on how large a body may be and how deeply
it may nest. REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] names it for every API view.

Python's json module recurses once per level: a body of 100,000 nested brackets (200 KB)
ran it out of stack and the RecursionError became a 500. No request of this API nests
more than a few levels, so anything deeper than MAX_JSON_DEPTH is refused as a 400 before
it is parsed.

The depth scan reads each character of the body a bounded number of times: its pattern has
no repeat, so no match attempt can read on and give up (the string pattern it replaced read
an unclosed string to the end once per quote in it: 32 KB of `"\\` took 9 s of CPU).
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser, get_encoding  # type: ignore[attr-defined]  # stubs lack it
from rest_framework.utils import json

MAX_JSON_DEPTH = 32

# The largest body read: nginx's default client_max_body_size. DRF reads the request
# stream itself, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB, for request.body and
# forms) never bounded it. The largest request (a discovery sheet: GLITCHLAB_BATCH_MAX ids
# and a new class of 1,000 characters) is a few KB.
MAX_JSON_BYTES = 1024 * 1024

# What decides nesting, one or two characters at a time: a quote (a string opens or
# closes), a backslash and the character it escapes, a bracket.
_NESTING_TOKEN = re.compile(r'\\.|["\[\]{}]', re.DOTALL)


def json_nesting_exceeds(text: str, limit: int) -> bool:
    """Whether any value in `text` (JSON, well-formed or not) opens more than `limit`
    arrays or objects inside one another. Brackets in a string do not count; a string
    left open runs to the end of the text (json stops there, so nothing after it nests)."""
    if text.count("[") + text.count("{") <= limit:  # every vote and form: one pass in C
        return False
    depth = 0
    in_string = False
    for token in _NESTING_TOKEN.findall(text):
        if token == '"':
            in_string = not in_string
        elif in_string or token[0] == "\\":  # a backslash outside a string: json refuses it
            continue
        elif token == "[" or token == "{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = f"JSON body larger than {MAX_JSON_BYTES} bytes"
    default_code = "request_too_large"


class BoundedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = get_encoding(parser_context or {})
        body = stream.read(MAX_JSON_BYTES + 1)
        if len(body) > MAX_JSON_BYTES:
            raise RequestTooLarge()
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if json_nesting_exceeds(text, MAX_JSON_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels")
        try:
            parse_constant = json.strict_constant if self.strict else None
            return json.loads(text, parse_constant=parse_constant)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
