"""REST API of the review app (reviewers only): the next suspect and posting a verdict."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.accounts.roles import is_reviewer
from webapp.review import selectors, services
from webapp.review.models import Suspect, Verdict


class IsReviewer(BasePermission):
    message = "Only reviewers may review labels."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and is_reviewer(request.user))


class VerdictInSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Verdict.Decision.choices)
    label = serializers.CharField(required=False, allow_blank=True, max_length=64)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


def _suspect_json(suspect: Suspect) -> dict[str, Any]:
    return {
        "id": suspect.pk,
        "subject_id": suspect.subject_id,
        "external_id": suspect.subject.external_id,
        "given_label": suspect.given_label,
        "suggested_label": suspect.suggested_label,
        "score": suspect.score,
        "is_issue": suspect.is_issue,
        "is_gold": suspect.is_gold,
        "top3": [[name, p] for name, p in suspect.top3],
        "votes": [vars(v) for v in selectors.suspect_votes(suspect=suspect)],
        "images": {str(i.duration): i.image.url for i in suspect.subject.images.all()},
    }


@api_view(["GET"])
@permission_classes([IsReviewer])
def suspect_next(request: Request) -> Response:
    """The caller's next suspect, most suspect first (204 when none is left)."""
    suspect = selectors.suspect_next(reviewer=request.user)
    if suspect is None:
        return Response(status=status.HTTP_204_NO_CONTENT)
    return Response(_suspect_json(suspect))


@api_view(["POST"])
@permission_classes([IsReviewer])
def verdict_create(request: Request, suspect_id: int) -> Response:
    data = VerdictInSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        verdict = services.verdict_record(
            suspect_id=suspect_id,
            reviewer=request.user,
            decision=data.validated_data["decision"],
            label=data.validated_data.get("label") or None,
            reason=data.validated_data.get("reason", ""),
        )
    except Suspect.DoesNotExist:
        return Response({"detail": "no such suspect"}, status=status.HTTP_404_NOT_FOUND)
    except services.StaleSuspectError as exc:
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    except DjangoValidationError as exc:
        raise ValidationError(exc.messages) from None
    return Response(
        {
            "id": verdict.pk,
            "decision": verdict.decision,
            "label_before": verdict.label_before,
            "label_after": verdict.label_after,
        },
        status=status.HTTP_201_CREATED,
    )
