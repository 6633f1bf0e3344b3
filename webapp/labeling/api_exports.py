"""The labels export over the API (token or session): /api/exports/labels.csv and .json,
streamed (webapp.labeling.exports says what each role sees)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.decorators import api_view, permission_classes, renderer_classes
from rest_framework.exceptions import Throttled
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request

from webapp.accounts.requests import api_user
from webapp.accounts.roles import is_reviewer
from webapp.labeling import export_slots, exports


class _CSVRenderer(BaseRenderer):
    """Lets a client that asks for text/csv through content negotiation (the body is the
    view's own stream); an error's detail comes back as one line of text."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        return str(data.get("detail", data) if isinstance(data, dict) else data).encode()


_RETIRED = OpenApiParameter(
    "retired",
    OpenApiTypes.BOOL,
    description="only retired glitches (reviewers; volunteers only ever get retired ones)",
)
_EXCEL = OpenApiParameter(
    "excel",
    OpenApiTypes.BOOL,
    description="start with a UTF-8 byte order mark, so that Excel reads non-ASCII text right "
    "(Python's csv module then needs encoding='utf-8-sig'; pandas reads it either way)",
)
_BUSY = (
    "an export of this account is still downloading (GLITCHLAB_EXPORTS_PER_USER), or the "
    "site's GLITCHLAB_EXPORTS_AT_ONCE are; Retry-After says when to ask again"
)
_WHO = "Volunteers get retired pool glitches only; reviewers and admins every glitch."


@extend_schema(
    parameters=[_RETIRED, _EXCEL],
    responses={
        (200, "text/csv"): OpenApiResponse(
            OpenApiTypes.STR, description=f"columns: {', '.join(exports.COLUMNS)}. {_WHO}"
        ),
        401: OpenApiResponse(description="not logged in"),
        429: OpenApiResponse(description=_BUSY),
    },
)
@api_view(["GET"])
@renderer_classes([JSONRenderer, _CSVRenderer])
@permission_classes([IsAuthenticated])
def labels_csv(request: Request) -> StreamingHttpResponse:
    """Every glitch's label, votes, posterior and the active model's top class as CSV
    (dict columns as JSON), streamed; ?excel=1 for Excel."""
    excel = _flag(request, "excel")
    return _stream(request, "csv", "text/csv; charset=utf-8", exports.as_csv, excel=excel)


@extend_schema(
    parameters=[_RETIRED],
    responses={
        (200, "application/json"): OpenApiResponse(
            OpenApiTypes.OBJECT,
            description="a JSON array of rows: the CSV's columns, but the GPS event_time is "
            f"named event_time_gps (pandas' read_json reads a *_time column as dates). {_WHO}",
        ),
        401: OpenApiResponse(description="not logged in"),
        429: OpenApiResponse(description=_BUSY),
    },
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def labels_json(request: Request) -> StreamingHttpResponse:
    """The same rows as a JSON array, streamed."""
    return _stream(request, "json", "application/json", exports.as_json)


def _stream(
    request: Request,
    extension: str,
    content_type: str,
    encode: Callable[..., Iterator[str]],
    *,
    excel: bool = False,
) -> StreamingHttpResponse:
    retired_only = _flag(request, "retired")
    user = api_user(request)
    subjects = exports.subjects_exportable(viewer=user, retired_only=retired_only)
    try:
        slot = export_slots.export_slot_claim(user_id=user.pk, reviewer=is_reviewer(user))
    except export_slots.ExportsBusyError as error:
        raise Throttled(wait=60, detail=f"Not started: {error}.") from None
    chunks = encode(exports.label_rows(subjects))
    response = StreamingHttpResponse(
        export_slots.HeldStream(exports.for_excel(chunks) if excel else chunks, slot),
        content_type=content_type,
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="glitchlab-labels-{stamp}.{extension}"'
    # What it holds depends on who asks (a reviewer's holds the gold answers): no shared
    # cache may keep it, and no browser cache keeps a copy either.
    response["Cache-Control"] = "private, no-store"
    return response


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "yes")
