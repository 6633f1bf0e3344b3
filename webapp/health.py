"""/healthz: the container health check. 200 when the database answers, 503 when it does not."""

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse


def healthz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        message = f"database unavailable: {exc.__class__.__name__}"
        return HttpResponse(message, status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")
