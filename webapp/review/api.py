"""REST API of the review app (reviewers only): the next suspect, posting a verdict and
undoing one."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.accounts.requests import api_user
from webapp.accounts.roles import is_reviewer
from webapp.review import selectors, services
from webapp.review.models import Suspect, Verdict
from webapp.review.serializers import (
    SuspectSerializer,
    VerdictInSerializer,
    VerdictSerializer,
    VerdictUndoInSerializer,
)


class IsReviewer(BasePermission):
    message = "Only reviewers may review labels."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and is_reviewer(request.user))


NOT_A_REVIEWER = OpenApiResponse(description="the caller is not a reviewer")


@extend_schema(
    responses={
        200: SuspectSerializer,
        204: OpenApiResponse(description="no suspect is left for the caller"),
        403: NOT_A_REVIEWER,
    }
)
@api_view(["GET"])
@permission_classes([IsReviewer])
def suspect_next(request: Request) -> Response:
    """The caller's next suspect, most suspect first (204 when none is left)."""
    suspect = selectors.suspect_next(reviewer=api_user(request))
    if suspect is None:
        return Response(status=status.HTTP_204_NO_CONTENT)
    return Response(SuspectSerializer(suspect).data)


@extend_schema(
    request=VerdictInSerializer,
    responses={
        201: VerdictSerializer,
        400: OpenApiResponse(description="invalid decision or label; the body says which"),
        403: NOT_A_REVIEWER,
        404: OpenApiResponse(description="no such suspect"),
        409: OpenApiResponse(
            description="the label changed since the audit (the suspect is stale), or the caller "
            "gave the suspect a different verdict before (`verdict`: that one, which stands)"
        ),
    },
)
@api_view(["POST"])
@permission_classes([IsReviewer])
def verdict_create(request: Request, suspect_id: int) -> Response:
    """Agree with, relabel or be unsure about a suspect; the same verdict again returns the
    first, a different one is refused (409)."""
    data = VerdictInSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        verdict = services.verdict_record(
            suspect_id=suspect_id,
            reviewer=api_user(request),
            decision=data.validated_data["decision"],
            label=data.validated_data.get("label") or None,
            reason=data.validated_data.get("reason", ""),
        )
    except Suspect.DoesNotExist:
        return Response({"detail": "no such suspect"}, status=status.HTTP_404_NOT_FOUND)
    except services.StaleSuspectError as exc:
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    except services.AlreadyDecidedError as exc:
        return Response(
            {
                "detail": "already decided: a verdict once given is not changed",
                "verdict": VerdictSerializer(exc.verdict).data,
            },
            status=status.HTTP_409_CONFLICT,
        )
    return Response(VerdictSerializer(verdict).data, status=status.HTTP_201_CREATED)


@extend_schema(
    request=VerdictUndoInSerializer,
    responses={
        200: VerdictSerializer,
        403: OpenApiResponse(
            description="the caller is not a reviewer, or the verdict is another reviewer's "
            "(an admin may undo anyone's)"
        ),
        404: OpenApiResponse(description="no such verdict"),
        409: OpenApiResponse(
            description="the label moved or was confirmed since the verdict: undoing it would "
            "overwrite that (`detail` says what happened)"
        ),
    },
)
@api_view(["POST"])
@permission_classes([IsReviewer])
def verdict_undo(request: Request, verdict_id: int) -> Response:
    """Undo a verdict: a relabel's label goes back, the verdict is kept marked undone and its
    suspect is open to its reviewer again. Undoing an undone verdict returns it, changing
    nothing."""
    data = VerdictUndoInSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        verdict = services.verdict_undo(
            verdict_id=verdict_id,
            user=api_user(request),
            reason=data.validated_data.get("reason", ""),
        )
    except Verdict.DoesNotExist:
        return Response({"detail": "no such verdict"}, status=status.HTTP_404_NOT_FOUND)
    except PermissionDenied as exc:
        return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
    except services.UndoRefusedError as exc:
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    return Response(VerdictSerializer(verdict).data)
