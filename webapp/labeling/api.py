"""REST API of the labelling app: thin views over the same services and selectors."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Prefetch, prefetch_related_objects
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotAuthenticated, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.accounts.requests import api_user
from webapp.bound_serializers import represent, validate
from webapp.labeling import selectors, services
from webapp.labeling.models import GlitchClass, GlitchClassExample, Subject
from webapp.labeling.serializers import (
    EXCLUDE_MAX_IDS,
    TAB_HELP,
    ClassificationInSerializer,
    ClassificationOutSerializer,
    ClassificationWithNextOutSerializer,
    GlitchClassSerializer,
    NextQuerySerializer,
    ProgressSerializer,
    SubjectDetailSerializer,
    SubjectToLabelSerializer,
    UndoInSerializer,
    UndoOutSerializer,
    UnseenInSerializer,
)


def _assigned(user: User, subject: Subject | None, tab: str | None = None) -> Subject | None:
    """A subject handed to the caller carries the assignment they vote on it with."""
    return services.subject_assign(volunteer=user, subject=subject, tab=tab) if subject else None


def _refused(error: Exception, code: str) -> Response:
    return Response({"detail": str(error), "code": code}, status=status.HTTP_409_CONFLICT)


@extend_schema(
    responses={
        200: GlitchClassSerializer(many=True),
        403: OpenApiResponse(description="?unlocked=1 from no one signed in"),
    },
    parameters=[
        OpenApiParameter("unlocked", bool, description="only the caller's classes (signed in)")
    ],
)
@api_view(["GET"])
@permission_classes([AllowAny])
def classes_list(request: Request) -> Response:
    """All offered classes, or with ?unlocked=1 those the caller may choose (level order;
    none signed in: 401/403, where every class answered, which a labelling page whose session
    had ended took for its level-up's)."""
    if request.query_params.get("unlocked"):
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        classes = selectors.glitch_classes_for_volunteer(volunteer=request.user)
    else:
        classes = list(GlitchClass.objects.exclude(status=GlitchClass.Status.DEPRECATED))
    prefetch_related_objects(
        classes, Prefetch("examples", queryset=GlitchClassExample.objects.order_by("pk"))
    )
    return Response(GlitchClassSerializer(classes, many=True).data)


@extend_schema(
    responses={200: SubjectToLabelSerializer, 204: None},
    parameters=[
        OpenApiParameter(
            "exclude", str, description=f"comma-separated subject ids, at most {EXCLUDE_MAX_IDS}"
        ),
        OpenApiParameter("tab", str, description=TAB_HELP),
    ],
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def subject_next(request: Request) -> Response:
    """The caller's next subject (204 when their queue is empty)."""
    raw = request.query_params.get("exclude", "")
    if raw.count(",") >= EXCLUDE_MAX_IDS:  # before parsing: a 400 KB list was a 500
        raise ValidationError({"exclude": f"at most {EXCLUDE_MAX_IDS} ids"})
    try:
        exclude = [int(x) for x in raw.split(",") if x]
    except ValueError:
        raise ValidationError({"exclude": "comma-separated integers"}) from None
    tab = validate(NextQuerySerializer, request.query_params).get("tab", "")
    subject = services.subject_next_hand_out(
        volunteer=api_user(request), exclude_ids=exclude, tab=tab
    )
    if subject is None:
        return Response(status=status.HTTP_204_NO_CONTENT)
    return Response(represent(SubjectToLabelSerializer, subject))


@extend_schema(responses=SubjectDetailSerializer)
@api_view(["GET"])
@permission_classes([AllowAny])
def subject_detail(request: Request, subject_id: int) -> Response:
    """A subject with its images; its role, vote counts, consensus and predictions once the
    caller has voted on it or it has retired (reviewers: always)."""
    subject = selectors.subject_get(subject_id=subject_id)
    if subject is None:
        return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    visible = selectors.subject_answers_visible(subject=subject, viewer=request.user)
    if visible:
        services.classifications_answers_seen(volunteer=request.user, subject_ids=[subject.pk])
    context = {"answers_visible": visible}
    return Response(SubjectDetailSerializer(subject, context=context).data)


@extend_schema(
    request=UnseenInSerializer,
    responses={
        204: None,
        404: OpenApiResponse(description="no such glitch"),
        409: OpenApiResponse(
            description="not handed to you, or too long ago (code not_assigned; `expired` "
            "true for the latter)"
        ),
    },
)
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def subject_unseen(request: Request, subject_id: int) -> Response:
    """The caller's page could not load the pictures of a glitch handed to them (its
    assignment) and passes it over: logged for the admins, with what the server finds wrong
    with the files. Votes nothing and hands out nothing (ask for the next glitch with this
    one in `exclude`); a glitch whose files the server finds broken is no longer the
    caller's training glitch due."""
    data = validate(UnseenInSerializer, request.data)
    try:
        services.subject_pictures_unseen(
            volunteer=api_user(request), subject_id=subject_id, assignment=data["assignment"]
        )
    except services.NotAssignedError as error:
        refused = _refused(error, "not_assigned")
        refused.data["expired"] = error.expired
        return refused
    except Subject.DoesNotExist:
        return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    request=ClassificationInSerializer,
    responses={
        201: ClassificationWithNextOutSerializer,
        200: ClassificationWithNextOutSerializer,
        409: OpenApiResponse(
            description="not handed to you or the assignment expired (code not_assigned; "
            "`expired` true for the latter), "
            "already answered (already_voted, with the caller's `progress`), "
            "or the key belongs to another vote (key_reused)"
        ),
    },
)
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def classification_create(request: Request) -> Response:
    """Vote, on a subject handed to the caller (its assignment). The vote is committed
    before the answer; a retry with the same key returns the first answer (200) instead of
    a second vote. Votes are always the caller's own. With with_next the answer also
    carries the caller's next subject, as GET subjects/next/ would give it: the labelling
    page needs one request per vote, not two."""
    data = validate(ClassificationInSerializer, request.data)
    volunteer = api_user(request)
    try:
        result = services.classification_create_assigned(
            volunteer=volunteer,
            subject_id=data["subject"],
            assignment=data["assignment"],
            class_name=data["glitch_class"],
            idempotency_key=data.get("idempotency_key"),
            seconds_taken=data.get("seconds_taken"),
        )
    except Subject.DoesNotExist:  # the service's row lock is the existence check
        return Response({"detail": "No Subject matches the given query."}, status=404)
    except services.NotAssignedError as error:
        refused = _refused(error, "not_assigned")
        refused.data["expired"] = error.expired  # handed to the caller, too long ago
        return refused
    except services.AlreadyVotedError as error:
        refused = _refused(error, "already_voted")
        # answered in another tab: this tab's counts are behind that vote, and the page shows
        # these (it said "0 classified" while the other tab said 1)
        progress = selectors.volunteer_progress(volunteer=volunteer)
        refused.data["progress"] = represent(ProgressSerializer, progress)
        return refused
    except services.IdempotencyKeyReusedError as error:
        return _refused(error, "key_reused")
    vote = result.classification
    gold = (
        {"correct": bool(result.correct), "right_answer": result.gold_label}
        if result.gold_label
        else None
    )
    body = {
        "id": vote.pk,
        "subject": vote.subject_id,
        "glitch_class": result.class_name,
        "created": result.created,
        "gold": gold,
        "late": result.late,
        "promoted": result.promoted,
        "progress": selectors.volunteer_progress(volunteer=volunteer, profile=result.profile),
    }
    out: type[ClassificationOutSerializer] = ClassificationOutSerializer
    if data["with_next"]:
        body["next"] = services.subject_next_hand_out(
            volunteer=volunteer,
            exclude_ids=data.get("exclude", []),
            profile=result.profile,
            tab=data.get("tab", ""),
        )
        out = ClassificationWithNextOutSerializer
    code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    return Response(represent(out, body), status=code)


@extend_schema(request=UndoInSerializer, responses=UndoOutSerializer)
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def classification_undo(request: Request) -> Response:
    """Take back the caller's last vote, named by its id (409 if it is not their last vote
    or was undone already, its glitch has retired, or it was a training (gold) glitch);
    the glitch comes back with a new assignment. A repeated undo is refused, never the
    vote before taken back."""
    data = validate(UndoInSerializer, request.data)
    volunteer = api_user(request)
    try:
        subject = services.classification_undo_last(
            volunteer=volunteer, classification_id=data["classification"]
        )
    except services.UndoNotAllowedError as error:
        return Response({"detail": str(error)}, status=status.HTTP_409_CONFLICT)
    subject_again = selectors.subject_get(subject_id=subject.pk)
    assigned = _assigned(volunteer, subject_again, data.get("tab", ""))
    body = {"subject": assigned, "progress": selectors.volunteer_progress(volunteer=volunteer)}
    return Response(represent(UndoOutSerializer, body))


@extend_schema(responses=ProgressSerializer)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def progress(request: Request) -> Response:
    """The caller's level, counts, and the skills that decide their next promotion."""
    progress = selectors.volunteer_progress(volunteer=api_user(request))
    return Response(represent(ProgressSerializer, progress))
