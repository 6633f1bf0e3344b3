"""JSON shapes of the discovery API: what the batch calls take, and what every call answers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from webapp.discovery.models import Batch, ClassProposal

# Ids are bigints: a larger number would overflow the database, so it is refused as a 400.
_MAX_ID = 2**63 - 1


def _subject_ids(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=_MAX_ID), **kwargs
    )


class BatchCreateSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        # Built per use, not at import: GLITCHLAB_BATCH_MAX is the one limit (the map's lasso
        # sends at most its batch_max), and a test may change it. More ids would each be a
        # parameter of one statement (PostgreSQL binds at most 65,535: a 500), so: a 400.
        limit = settings.GLITCHLAB_BATCH_MAX
        return {
            "subject_ids": _subject_ids(
                min_length=1,
                max_length=limit,
                error_messages={"max_length": f"at most {limit} glitches: a batch holds no more"},
                help_text="glitches chosen on the map, at most GLITCHLAB_BATCH_MAX (the map's "
                "batch_max); closed and answered ones are dropped",
            )
        }


class BatchSubmitSerializer(serializers.Serializer):
    """The selected glitches and exactly one label: a class, a proposal or a new class."""

    selected = _subject_ids(min_length=1, help_text="glitches of the batch that get the label")
    class_name = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=64, help_text="an active class"
    )
    proposal = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=_MAX_ID,
        help_text="id of a proposed or provisional class",
    )
    new_name = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=ClassProposal._meta.get_field("name").max_length,
        help_text="propose this new class",
    )
    new_description = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=ClassProposal._meta.get_field("description").max_length,
        help_text="what the new class looks like",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [bool(attrs["class_name"]), attrs["proposal"] is not None, bool(attrs["new_name"])]
        if sum(given) != 1:
            raise serializers.ValidationError("give exactly one of class_name, proposal, new_name")
        return attrs


class BatchSubjectSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    image = serializers.CharField(help_text="URL of its 1 s view; empty when it has none")


class BatchSerializer(serializers.Serializer):
    # drf-stubs type `source` and `label` as the Field's own attributes; DRF takes declared
    # fields off the class, so a field may have those names: hence `type: ignore`.
    id = serializers.IntegerField()
    source = serializers.ChoiceField(choices=Batch.Source.choices)  # type: ignore[assignment]
    subjects = BatchSubjectSerializer(many=True, help_text="shown, in order")
    submitted = serializers.BooleanField()
    selected = serializers.ListField(
        child=serializers.IntegerField(), help_text="given the label (once submitted)"
    )
    label = serializers.CharField(help_text="the label given; empty until submitted")  # type: ignore[assignment]
    voted = serializers.IntegerField()
    skipped = serializers.IntegerField(help_text="already answered by this volunteer")


class SimilarQuerySerializer(serializers.Serializer):
    k = serializers.IntegerField(
        required=False,
        help_text="how many (default GLITCHLAB_SIMILAR_K); more than 100 gives 100",
    )


class SimilarSubjectSerializer(serializers.Serializer):
    subject_id = serializers.IntegerField()
    similarity = serializers.FloatField(help_text="cosine similarity of the embeddings")
    image_url = serializers.CharField()
    label = serializers.CharField(  # type: ignore[assignment]
        help_text="retired label, else the active model's guess (to reviewers, and to a "
        "volunteer who voted on the glitch), else empty"
    )


class SimilarSerializer(serializers.Serializer):
    subject = serializers.IntegerField()
    similar = SimilarSubjectSerializer(many=True, help_text="most similar first")
    reason = serializers.CharField(
        default="",
        help_text='why the list is empty: "no embeddings for this glitch yet" when the '
        "current embeddings do not hold it (none made yet, imported since, their file "
        "missing); empty when they do",
    )


class MapPointsSerializer(serializers.Serializer):
    """The map as columns: the i-th entry of every list describes the glitch ids[i]. Until
    the map is computed only ready (false) and an empty ids come back."""

    ready = serializers.BooleanField()
    model = serializers.CharField(required=False, help_text="the model whose embeddings these are")
    ids = serializers.ListField(child=serializers.IntegerField())
    x = serializers.ListField(child=serializers.FloatField(), required=False)
    y = serializers.ListField(child=serializers.FloatField(), required=False)
    label = serializers.ListField(  # type: ignore[assignment]
        child=serializers.CharField(),
        required=False,
        help_text="retired label, else the model's guess (to reviewers, and to a volunteer "
        'who voted on the glitch), else "unlabelled"',
    )
    confidence = serializers.ListField(
        child=serializers.FloatField(allow_null=True),
        required=False,
        help_text="the model's confidence, shown as its guess is; else null",
    )
    cluster = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="-1: in no cluster"
    )
    image = serializers.ListField(child=serializers.CharField(), required=False)
    open = serializers.ListField(
        child=serializers.BooleanField(),
        required=False,
        help_text="whether the caller may still vote on it (a lasso batch takes only these)",
    )
    batch_max = serializers.IntegerField(required=False, help_text="the most a batch holds")
