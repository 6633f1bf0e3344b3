"""Pages and API answers made for a signed-in user are not kept by the browser.

Without Cache-Control, Chrome answered a history navigation (Back to the labelling page) from
its cache: the page and its GET /api/subjects/next/ as they were, so a glitch already voted
on came back with stale progress, and its vote was refused. A signed-in user's pages and JSON
are theirs and of the moment; a response that says how it may be cached (the exports'
"private, no-store") keeps its own, and files (glitch images; static files are answered
before this runs) are not touched.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class NoStoreForSignedInMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # a file is streamed (FileResponse); the user is read last: a file's request need not
        if (
            not response.streaming
            and not response.has_header("Cache-Control")
            and request.user.is_authenticated
        ):
            add_never_cache_headers(response)
        return response
