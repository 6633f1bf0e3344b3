"""JSON shapes of the review API: a suspect with its evidence, and a verdict in and out."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from webapp.review import selectors
from webapp.review.models import Suspect, Verdict


class VerdictInSerializer(serializers.Serializer):
    # drf-stubs type `source` and `label` as the Field's own attributes; DRF takes declared
    # fields off the class, so a field may have those names: hence `type: ignore`.
    decision = serializers.ChoiceField(choices=Verdict.Decision.choices)
    label = serializers.CharField(  # type: ignore[assignment]
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="the right class (an active one), for relabel",
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class VerdictUndoInSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class VerdictSerializer(serializers.ModelSerializer):
    undone_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, help_text="who undid it (null: it stands)"
    )

    class Meta:
        model = Verdict
        fields = ["id", "decision", "label_before", "label_after", "undone_at", "undone_by"]


class VoteSerializer(serializers.Serializer):
    volunteer = serializers.CharField(help_text="username")
    answer = serializers.CharField()
    weight = serializers.FloatField(help_text="the vote's W_i for its own answer")
    weight_for_given = serializers.FloatField(help_text="... and for the label under review")


@extend_schema_field(
    {
        "type": "array",
        "items": {"oneOf": [{"type": "string"}, {"type": "number"}]},
        "minItems": 2,
        "maxItems": 2,
        "description": "[class, probability]",
    }
)
class ClassProbabilityField(serializers.Field):
    """A (class, probability) pair as a two-item list."""

    def to_representation(self, value: tuple[str, float]) -> list[Any]:
        name, probability = value
        return [name, probability]


class SuspectSerializer(serializers.ModelSerializer):
    """A suspect with what a reviewer needs to judge it (the API's form of the suspect page)."""

    subject_id = serializers.IntegerField()
    external_id = serializers.CharField(source="subject.external_id")
    top3 = serializers.ListField(
        child=ClassProbabilityField(), help_text="the out-of-fold model's top 3 classes"
    )
    votes = serializers.SerializerMethodField()
    images = serializers.SerializerMethodField()

    class Meta:
        model = Suspect
        fields = [
            "id",
            "subject_id",
            "external_id",
            "given_label",
            "suggested_label",
            "score",
            "is_issue",
            "is_gold",
            "top3",
            "votes",
            "images",
        ]

    @extend_schema_field(VoteSerializer(many=True))
    def get_votes(self, obj: Suspect) -> list[dict[str, Any]]:
        votes = VoteSerializer(selectors.suspect_votes(suspect=obj), many=True)
        return votes.data  # type: ignore[return-value]  # many=True: a list (the stubs: a dict)

    @extend_schema_field(
        serializers.DictField(
            child=serializers.CharField(), help_text="image URL by view duration in seconds"
        )
    )
    def get_images(self, obj: Suspect) -> dict[str, str]:
        return {str(i.duration): i.image.url for i in obj.subject.images.all()}
