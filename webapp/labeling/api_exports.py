"""The exports over the API (token or session), streamed: /api/exports/labels.csv and
.json, and /api/exports/votes.csv for reviewers and admins (webapp.labeling.exports says
what each role sees); /api/exports/about.json says what they hold and how they were made."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from django.http import StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.decorators import api_view, permission_classes, renderer_classes
from rest_framework.exceptions import PermissionDenied, Throttled
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

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
    chunks = exports.as_csv(_label_rows(request))
    return _stream(request, "labels", "csv", chunks, excel=_flag(request, "excel"))


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
    return _stream(request, "labels", "json", exports.as_json(_label_rows(request)))


@extend_schema(
    parameters=[_EXCEL],
    responses={
        (200, "text/csv"): OpenApiResponse(
            OpenApiTypes.STR,
            description=f"columns: {', '.join(exports.VOTE_COLUMNS)}. Every vote, late ones "
            "too; each volunteer under a pseudonym, never the username.",
        ),
        401: OpenApiResponse(description="not logged in"),
        403: OpenApiResponse(description="not a reviewer or admin"),
        429: OpenApiResponse(description=_BUSY),
    },
)
@api_view(["GET"])
@renderer_classes([JSONRenderer, _CSVRenderer])
@permission_classes([IsAuthenticated])
def votes_csv(request: Request) -> StreamingHttpResponse:
    """Every vote, one row each (the class chosen and counted, its weight, gold or not,
    late or not, when), as CSV, streamed; reviewers and admins only (a gold glitch's votes
    give its answer); ?excel=1 for Excel."""
    if not is_reviewer(api_user(request)):
        raise PermissionDenied("Reviewers and admins only.")
    chunks = exports.as_csv(exports.vote_rows(), exports.VOTE_COLUMNS)
    return _stream(request, "votes", "csv", chunks, excel=_flag(request, "excel"))


@extend_schema(
    responses={
        (200, "application/json"): OpenApiResponse(
            OpenApiTypes.OBJECT,
            description="what a reader of the exports needs beside their rows: "
            "format_version, generated_at, glitchlab (version, source), consensus (the rules "
            "in force now, per-class retirement thresholds), active_model, models (each model "
            "version the caller's export names: checkpoint sha256, created_at, backbone, "
            "n_train_glitches), sources, columns (what each holds), gravity_spy_data "
            "(licence and credit); glitchlab, and consensus's weights (prior_alpha, "
            "prior_weight, min_gold_to_weigh, level_weights, none_votes_to_discovery, "
            "new_class_gold_min_volunteers), for reviewers and admins only",
        ),
        401: OpenApiResponse(description="not logged in"),
    },
)
@api_view(["GET"])
@renderer_classes([JSONRenderer])
@permission_classes([IsAuthenticated])
def about_json(request: Request) -> Response:
    """The exports' sidecar: when, by which GlitchLab, under which consensus rules, what
    each column holds, and Gravity Spy's licence and credit (webapp.labeling.exports.about).
    Fetch it with the export it describes: it says the rules in force when it is fetched.
    The code's exact version and the tuned weights are for reviewers and admins (a
    volunteer gets what a reader of the labels export needs: the columns, the credit, the
    models its rows name and the retirement rule's bar)."""
    user = api_user(request)
    about = exports.about(full=is_reviewer(user), subjects=exports.subjects_exportable(viewer=user))
    response = Response(about)
    response["Cache-Control"] = "private, no-store"
    _say_format(response, about["generated_at"])
    return response


def _label_rows(request: Request) -> Iterator[dict[str, Any]]:
    """The labels export's rows this caller may have (read when the stream is)."""
    user = api_user(request)
    subjects = exports.subjects_exportable(viewer=user, retired_only=_flag(request, "retired"))
    return exports.label_rows(subjects)


_CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def _stream(
    request: Request, name: str, extension: str, chunks: Iterator[str], *, excel: bool = False
) -> StreamingHttpResponse:
    """`chunks` (not started yet) as a download, holding one of the export slots."""
    user = api_user(request)
    try:
        slot = export_slots.export_slot_claim(user_id=user.pk, reviewer=is_reviewer(user))
    except export_slots.ExportsBusyError as error:
        raise Throttled(wait=60, detail=f"Not started: {error}.") from None
    response = StreamingHttpResponse(
        export_slots.HeldStream(exports.for_excel(chunks) if excel else chunks, slot),
        content_type=_CONTENT_TYPES[extension],
    )
    now = timezone.now()
    version = exports.FORMAT_VERSION
    response["Content-Disposition"] = (
        f'attachment; filename="glitchlab-{name}-{now:%Y%m%d-%H%M}-v{version}.{extension}"'
    )
    response["Link"] = f'<{reverse("api-exports-about")}>; rel="describedby"'
    _say_format(response, now.isoformat())
    # What it holds depends on who asks (a reviewer's holds the gold answers): no shared
    # cache may keep it, and no browser cache keeps a copy either.
    response["Cache-Control"] = "private, no-store"
    return response


def _say_format(response: HttpResponseBase, generated_at: str) -> None:
    """Which format the file is in and when it was made, in headers: a CSV has no place for
    them that a spreadsheet reads past (docs/labelling.md, "Export format versions"). The
    file's name carries the version and the minute too, for a file saved to disk."""
    response["X-GlitchLab-Format-Version"] = str(exports.FORMAT_VERSION)
    response["X-GlitchLab-Generated-At"] = generated_at


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "yes")
