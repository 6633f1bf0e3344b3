"""REST API of discovery: similar glitches, the map's points, batches (lasso and submit)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.accounts.requests import api_user
from webapp.discovery import selectors, services
from webapp.discovery.models import Batch
from webapp.discovery.serializers import (
    BatchCreateSerializer,
    BatchSerializer,
    BatchSubmitSerializer,
    MapPointsSerializer,
    SimilarQuerySerializer,
    SimilarSerializer,
)
from webapp.labeling import selectors as labeling_selectors
from webapp.labeling import services as labeling_services

BAD_INPUT = OpenApiResponse(description="invalid input; the body says which field and why")
BELOW_LEVEL = OpenApiResponse(description="batch labelling opens at a higher level")


def batch_body(batch: Batch) -> dict[str, Any]:
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


NOT_EMBEDDED = "no embeddings for this glitch yet"


@extend_schema(
    parameters=[SimilarQuerySerializer],
    responses={
        200: SimilarSerializer,
        400: BAD_INPUT,
        404: OpenApiResponse(description="no such glitch"),
    },
)
@api_view(["GET"])
@permission_classes([AllowAny])
def similar(request: Request, subject_id: int) -> Response:
    """The k most similar glitches by embedding; an empty list, with the reason, for a
    glitch the current embeddings do not hold (none made yet, it was imported since, their
    file missing): its page asks on every visit, and a 404 was an error in the browser's
    console. 404 only for no such glitch. Gold and pool glitches are answered alike, as
    query and as neighbours (issue #14: a 404 for gold alone told gold apart; gold is
    embedded as pool is); no label in it is ever a gold answer."""
    query = SimilarQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    k = min(max(query.validated_data.get("k", 0), 0), 100)  # 0: the default
    if labeling_selectors.subject_get(subject_id=subject_id) is None:
        return Response({"detail": "no such glitch"}, status=404)
    found = selectors.similar_subjects(subject_id=subject_id, viewer=request.user, k=k)
    if found is None:
        body = {"subject": subject_id, "similar": [], "reason": NOT_EMBEDDED}
        return Response(SimilarSerializer(body).data)
    # a label shown on a glitch the caller voted on is its answer: no undo of that vote
    labelled = [s.subject_id for s in found if s.label]
    labeling_services.classifications_answers_seen(volunteer=request.user, subject_ids=labelled)
    return Response(SimilarSerializer({"subject": subject_id, "similar": found}).data)


@extend_schema(responses=MapPointsSerializer)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def map_points(request: Request) -> Response:
    """The 2-D map as columns (ids, x, y, label, confidence, cluster, image), and for the
    caller which points a lasso batch would take (open) and how many at most (batch_max)."""
    # Not passed through MapPointsSerializer: the map has a point per glitch, and the
    # selector already builds exactly that shape.
    points = selectors.map_points(viewer=api_user(request))
    # The guesses and hover facts shown on the caller's voted glitches are their answers:
    # those votes can no longer be undone (one statement for the whole map, or a read and
    # an update of the votes not yet marked when it has more points than an IN list holds).
    labeling_services.classifications_answers_seen(
        volunteer=api_user(request), subject_ids=points.pop("answers_shown", ())
    )
    if points["ready"]:
        # The lasso counts only these, so its count is the batch's size (a lasso of 29
        # opened a sheet of 23: the answered and closed glitches were dropped unsaid).
        open_ids = selectors.subject_ids_open_for(volunteer=api_user(request))
        points["open"] = [i in open_ids for i in points["ids"]]
        points["batch_max"] = settings.GLITCHLAB_BATCH_MAX
    return Response(points)


@extend_schema(
    request=BatchCreateSerializer,
    responses={201: BatchSerializer, 400: BAD_INPUT, 403: BELOW_LEVEL},
)
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def batch_create(request: Request) -> Response:
    """A batch from glitches chosen on the map (lasso)."""
    incoming = BatchCreateSerializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    try:
        batch = services.batch_from_subjects(
            volunteer=api_user(request), subject_ids=incoming.validated_data["subject_ids"]
        )
    except DjangoPermissionDenied as error:
        raise PermissionDenied(str(error)) from None
    return Response(BatchSerializer(batch_body(batch)).data, status=status.HTTP_201_CREATED)


@extend_schema(
    responses={
        200: BatchSerializer,
        204: OpenApiResponse(description="no cluster has glitches left for the caller"),
        403: BELOW_LEVEL,
    }
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def batch_next(request: Request) -> Response:
    """The caller's open batch or a new one from the next cluster (204: nothing to do)."""
    try:
        batch = services.batch_from_cluster(volunteer=api_user(request))
    except DjangoPermissionDenied as error:
        raise PermissionDenied(str(error)) from None
    if batch is None:
        return Response(status=status.HTTP_204_NO_CONTENT)
    return Response(BatchSerializer(batch_body(batch)).data)


@extend_schema(
    request=BatchSubmitSerializer,
    responses={
        200: BatchSerializer,
        400: OpenApiResponse(description="invalid input, or not the caller's batch"),
        403: BELOW_LEVEL,
    },
)
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def batch_submit(request: Request, batch_id: int) -> Response:
    """One label for the selected glitches of the batch; a repeated submit returns the first."""
    incoming = BatchSubmitSerializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    data = incoming.validated_data
    try:
        batch = services.batch_submit(
            volunteer=api_user(request),
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
    return Response(BatchSerializer(batch_body(batch)).data)
