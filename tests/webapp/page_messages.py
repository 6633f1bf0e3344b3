"""What a page told its user after an action: the messages list of templates/base.html."""

from __future__ import annotations

import html
import re

_LIST = re.compile(r'<ul class="messages">(.*?)</ul>', re.S)
_ITEM = re.compile(r'<li class="(\w*)">(.*?)</li>', re.S)


def said(response) -> list[tuple[str, str]]:
    """(kind, text) of each message the followed response's page shows, as rendered: kind is
    success (done), info (nothing to do: already so) or error (refused, failed)."""
    shown = _LIST.search(response.content.decode())
    return (
        [(kind, html.unescape(text)) for kind, text in _ITEM.findall(shown.group(1))]
        if (shown)
        else []
    )
