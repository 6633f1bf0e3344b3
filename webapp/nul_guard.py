"""A request holding a NUL character (0x00) is refused with a 400 before any view runs.

PostgreSQL can neither store nor compare text that holds NUL: psycopg raises, so a view
that handed such text to a query answered 500 (a comment, a reviewer's reason, a class
proposal's description, a tag name in the address), while SQLite stored it silently.
Django's forms and DRF's serializers refuse NUL in the fields they validate; this covers
the rest in one place: the address, the query string and the form fields that views
read from request.POST themselves. Browsers cannot type NUL, so only a hostile or broken
client meets this.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.http.request import QueryDict

NUL = "\x00"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _holds_nul(data: QueryDict) -> bool:
    return any(NUL in key or any(NUL in v for v in values) for key, values in data.lists())


def nul_found_in(request: HttpRequest) -> str | None:
    """Where `request` holds a NUL character ("the address", "the query string", "the
    form"), or None. Only form bodies are read here; JSON bodies go through serializers."""
    if NUL in request.path:
        return "the address"
    if _holds_nul(request.GET):
        return "the query string"
    if request.content_type in FORM_TYPES and _holds_nul(request.POST):
        return "the form"
    return None


class RefuseNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = nul_found_in(request)
        if where is None:
            return self.get_response(request)
        message = f"Not accepted: {where} holds a NUL character (0x00)."
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=400)
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
