"""Free text from a form's textarea, counted as the volunteer typed it: the browser's
maxlength counts a new line as one character, but the form sends it as CRLF, two, so a
comment that filled the box arrived too long and was refused."""

from __future__ import annotations


def typed_text(text: str) -> str:
    """`text` with each CRLF and lone CR made one LF (what the textarea held), stripped: its
    length is what the textarea's maxlength counted."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()
