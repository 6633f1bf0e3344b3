"""REST API of discovery: similar glitches, the map's points, batches (lasso and submit)."""

from __future__ import annotations

from dataclasses import asdict

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.discovery import selectors, services
from webapp.discovery.models import Batch
from webapp.labeling.models import Subject


class BatchCreateSerializer(serializers.Serializer):
    subject_ids = serializers.ListField(child=serializers.IntegerField(), min_length=1)


class BatchSubmitSerializer(serializers.Serializer):
    selected = serializers.ListField(child=serializers.IntegerField(), min_length=1)
    class_name = serializers.CharField(required=False, allow_blank=True, default="")
    proposal = serializers.IntegerField(required=False, allow_null=True, default=None)
    new_name = serializers.CharField(required=False, allow_blank=True, default="")
    new_description = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs: dict) -> dict:
        given = [bool(attrs["class_name"]), attrs["proposal"] is not None, bool(attrs["new_name"])]
        if sum(given) != 1:
            raise serializers.ValidationError("give exactly one of class_name, proposal, new_name")
        return attrs


def batch_body(batch: Batch) -> dict:
    return {
        "id": batch.pk,
        "source": batch.source,
        "subjects": selectors.batch_subjects(batch=batch),
        "submitted": batch.submitted_at is not None,
        "selected": batch.selected_ids,
        "label": batch.class_name,
        "voted": batch.n_voted,
        "skipped": batch.n_skipped,
    }


def _django_errors(error: DjangoValidationError) -> ValidationError:
    detail = error.message_dict if hasattr(error, "message_dict") else error.messages
    return ValidationError(detail)


@extend_schema(parameters=[OpenApiParameter("k", int, description="how many (default 12)")])
@api_view(["GET"])
@permission_classes([AllowAny])
def similar(request: Request, subject_id: int) -> Response:
    """The k most similar glitches by embedding (never gold ones); 404 without embeddings."""
    subject = Subject.objects.filter(pk=subject_id).exclude(role=Subject.Role.GOLD).first()
    try:
        k = min(max(int(request.query_params.get("k", 0)), 0), 100)
    except ValueError:
        raise ValidationError({"k": "an integer"}) from None
    found = selectors.similar_subjects(subject_id=subject_id, k=k) if subject else None
    if found is None:
        return Response({"detail": "no embeddings for this glitch yet"}, status=404)
    return Response({"subject": subject_id, "similar": [asdict(s) for s in found]})


@api_view(["GET"])
@permission_classes([IsAuthenticated])
def map_points(request: Request) -> Response:
    """The 2-D map as columns (ids, x, y, label, confidence, cluster, image)."""
    return Response(selectors.map_points())


@extend_schema(request=BatchCreateSerializer)
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def batch_create(request: Request) -> Response:
    """A batch from glitches chosen on the map (lasso)."""
    incoming = BatchCreateSerializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    try:
        batch = services.batch_from_subjects(
            volunteer=request.user, subject_ids=incoming.validated_data["subject_ids"]
        )
    except DjangoPermissionDenied as error:
        raise PermissionDenied(str(error)) from None
    except DjangoValidationError as error:
        raise _django_errors(error) from None
    return Response(batch_body(batch), status=status.HTTP_201_CREATED)


@api_view(["GET"])
@permission_classes([IsAuthenticated])
def batch_next(request: Request) -> Response:
    """The caller's open batch or a new one from the next cluster (204: nothing to do)."""
    try:
        batch = services.batch_from_cluster(volunteer=request.user)
    except DjangoPermissionDenied as error:
        raise PermissionDenied(str(error)) from None
    if batch is None:
        return Response(status=status.HTTP_204_NO_CONTENT)
    return Response(batch_body(batch))


@extend_schema(request=BatchSubmitSerializer)
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def batch_submit(request: Request, batch_id: int) -> Response:
    """One label for the selected glitches of the batch; a repeated submit returns the first."""
    incoming = BatchSubmitSerializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    data = incoming.validated_data
    try:
        batch = services.batch_submit(
            volunteer=request.user,
            batch_id=batch_id,
            selected_ids=data["selected"],
            label=services.BatchLabel(
                class_name=data["class_name"],
                proposal_id=data["proposal"],
                new_name=data["new_name"],
                new_description=data["new_description"],
            ),
        )
    except DjangoPermissionDenied as error:
        raise PermissionDenied(str(error)) from None
    except DjangoValidationError as error:
        raise _django_errors(error) from None
    return Response(batch_body(batch))
