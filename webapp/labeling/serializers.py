"""JSON shapes of the labelling API (input validation and output)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from webapp.labeling.metadata import IDENTIFYING_FIELDS
from webapp.labeling.models import GlitchClass, Subject, SubjectImage

# The most subject ids a client may ask the queue to skip (the page sends the one on screen):
# each is a parameter of the queue's statement, and PostgreSQL takes at most 65,535.
EXCLUDE_MAX_IDS = 100

# A tab's name (label.js makes a UUID): the queue holds the glitches it hands a tab from the
# account's other tabs for a while (webapp.labeling.queue_holds).
TAB_PATTERN = r"^[A-Za-z0-9-]{1,36}$"
TAB_HELP = (
    "your tab's name (1-36 letters, digits, -): glitches handed to it are kept from your "
    "other tabs for a few minutes"
)


class GuideExampleSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="the example glitch's primary image")
    simulated = serializers.BooleanField(help_text="made by GlitchLab's simulator, not LIGO")


class GlitchClassSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)
    level = serializers.SerializerMethodField()
    examples = serializers.SerializerMethodField()

    class Meta:
        model = GlitchClass
        fields = [
            "id",
            "name",
            "display_name",
            "description",
            "tell_apart",
            "key",
            "status",
            "level",
            "examples",
        ]

    def get_level(self, obj: GlitchClass) -> int | None:
        from webapp.labeling.config import level_of_class

        return level_of_class(obj.name)

    @extend_schema_field(GuideExampleSerializer(many=True))
    def get_examples(self, obj: GlitchClass) -> list[dict[str, object]]:
        """One image per example glitch (its primary view), and whether it is simulated:
        the ? drawer's pictures."""
        return [
            {"url": example.image.url, "simulated": example.simulated}
            for example in obj.examples.all()
            if example.primary
        ]


# The two shapes below are on every vote's answer: plain Serializers, because a
# ModelSerializer inspects its model again each time it is made (about 0.3 ms a vote).


class SubjectImageSerializer(serializers.Serializer):
    duration = serializers.FloatField(help_text="time window in seconds: 0.5, 1, 2 or 4")
    url = serializers.SerializerMethodField()
    substituted = serializers.BooleanField(
        help_text="a stand-in: a copy of another duration (this one was missing), or, in "
        "every slot, the one image of a glitch whose duration is unknown"
    )

    def get_url(self, obj: SubjectImage) -> str:
        return obj.image.url


class SubjectToLabelSerializer(serializers.Serializer):
    """What a volunteer sees before voting: the images, nothing that gives the answer away,
    and the same fields for gold and pool subjects (image names are opaque)."""

    id = serializers.IntegerField()
    # No glitch id, time or metadata: each is a key into a public table with its label
    # (Gravity Spy's training set; a simulation's id is a hash of its class). They come
    # with the answers (SubjectDetailSerializer) once the volunteer has voted.
    ifo = serializers.CharField(help_text="detector, e.g. H1 or L1")
    images = SubjectImageSerializer(many=True, source="images_in_order")  # selectors.IMAGES
    assignment = serializers.CharField(  # set by services.subject_assign
        help_text="send it with the vote: this glitch was handed to you (valid 30 minutes)"
    )


class PredictionSerializer(serializers.Serializer):
    model_version = serializers.CharField()
    predicted_label = serializers.CharField()
    probabilities = serializers.DictField(child=serializers.FloatField())
    is_active = serializers.BooleanField()


# What gives a subject's answer away: null in SubjectDetailSerializer (its votes and
# predictions empty) until the caller may see it (context "answers_visible", from
# selectors.subject_answers_visible): a reviewer, or anyone once the subject has retired
# or they have voted on it. Until then a gold subject looks exactly like a pool one (the
# source named the gold set, too).
# `simulated` too: where real pool glitches sit beside simulated gold, it would tell them apart.
HIDDEN_UNTIL_VISIBLE = ("source", "simulated", "role", "views", "n_votes", "n_none_votes",
                        "posterior", *IDENTIFYING_FIELDS)  # fmt: skip


class SubjectDetailSerializer(serializers.ModelSerializer):
    images = SubjectImageSerializer(many=True, read_only=True, source="images_in_order")
    retired_label: serializers.SlugRelatedField[GlitchClass] = serializers.SlugRelatedField(
        slug_field="name", read_only=True
    )
    simulated = serializers.BooleanField(
        read_only=True,
        help_text="drawn by GlitchLab's simulator, not LIGO (Subject.simulated: its source is "
        "one of GLITCHLAB_SIMULATED_SOURCES); its metadata are the simulation's",
    )
    votes = serializers.SerializerMethodField()
    predictions = serializers.SerializerMethodField()
    gold_label = serializers.SerializerMethodField()
    answers_visible = serializers.SerializerMethodField(
        help_text="false: role, votes, consensus and predictions are hidden until you have "
        "voted on this glitch or it has retired"
    )

    class Meta:
        model = Subject
        fields = [
            "id",
            "external_id",
            "source",
            "simulated",
            "ifo",
            "gps_time",
            "channel",
            "peak_frequency",
            "central_freq",
            "bandwidth",
            "duration",
            "snr",
            "q_value",
            "role",
            "gold_label",
            "status",
            "views",
            "n_votes",
            "n_none_votes",
            "posterior",
            "retired_label",
            "images",
            "votes",
            "predictions",
            "answers_visible",
        ]
        extra_kwargs = {name: {"allow_null": True} for name in HIDDEN_UNTIL_VISIBLE}

    def _visible(self) -> bool:
        return bool(self.context.get("answers_visible"))

    def get_answers_visible(self, obj: Subject) -> bool:
        return self._visible()

    def to_representation(self, instance: Subject) -> dict[str, object]:
        data = super().to_representation(instance)
        if not self._visible():
            for name in HIDDEN_UNTIL_VISIBLE:
                data[name] = None
        return data

    def get_gold_label(self, obj: Subject) -> str | None:
        return obj.gold_label.name if obj.gold_label and self._visible() else None

    def get_votes(self, obj: Subject) -> dict[str, int]:
        from webapp.labeling.selectors import subject_vote_counts

        return subject_vote_counts(subject=obj) if self._visible() else {}

    @extend_schema_field(PredictionSerializer(many=True))
    def get_predictions(self, obj: Subject) -> list[dict[str, object]]:
        if not self._visible():
            return []
        return [
            {
                "model_version": p.model_version.name,
                "predicted_label": p.predicted_label,
                "probabilities": p.probabilities,
                "is_active": p.model_version.is_active,
            }
            for p in obj.predictions.select_related("model_version")
        ]


class ClassificationInSerializer(serializers.Serializer):
    subject = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    assignment = serializers.CharField(
        max_length=200,
        help_text="the assignment that came with the subject (GET subjects/next/, a vote's "
        "next, an undo): only glitches handed to you take your vote",
    )
    glitch_class = serializers.CharField(max_length=64, help_text="class name")
    idempotency_key = serializers.UUIDField(
        required=False, help_text="client-made UUID; a retry with the same key is harmless"
    )
    seconds_taken = serializers.FloatField(required=False, min_value=0, max_value=86400)
    with_next = serializers.BooleanField(
        default=False, help_text="also answer with the caller's next subject (one round trip)"
    )
    exclude = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=EXCLUDE_MAX_IDS,
        help_text="with with_next: subjects not to offer (e.g. the one on screen)",
    )
    tab = serializers.RegexField(
        TAB_PATTERN, required=False, help_text=f"with with_next: {TAB_HELP}"
    )


class UnseenInSerializer(serializers.Serializer):
    assignment = serializers.CharField(
        max_length=200, help_text="the assignment that came with the glitch whose pictures failed"
    )


class UndoInSerializer(serializers.Serializer):
    classification = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        help_text="the id of the vote to take back (its answer's id): your last vote",
    )
    tab = serializers.RegexField(TAB_PATTERN, required=False, help_text=TAB_HELP)


class NextQuerySerializer(serializers.Serializer):
    """GET subjects/next/'s tab (its exclude is parsed by the view, bounded before parsing)."""

    tab = serializers.RegexField(TAB_PATTERN, required=False, help_text=TAB_HELP)


class GoldFeedbackSerializer(serializers.Serializer):
    correct = serializers.BooleanField()
    right_answer = serializers.CharField()


class ClassSkillSerializer(serializers.Serializer):
    """consensus.ClassSkill: the volunteer's skill in one class of their level."""

    name = serializers.CharField()
    gold_answers = serializers.IntegerField(help_text="gold glitches of this class answered")
    right = serializers.IntegerField(help_text="... of them answered right")
    answered = serializers.IntegerField(help_text="gold glitches answered with this class")
    precision = serializers.FloatField(allow_null=True)
    recall = serializers.FloatField(allow_null=True)
    alpha = serializers.FloatField(
        allow_null=True, help_text="min(precision, recall): compared with min_alpha"
    )
    ready = serializers.BooleanField(help_text="this class is mastered for the next level")


class ProgressSerializer(serializers.Serializer):
    """selectors.VolunteerProgress."""

    level = serializers.IntegerField()
    max_level = serializers.IntegerField()
    n_classified = serializers.IntegerField()
    n_gold = serializers.IntegerField()
    n_gold_correct = serializers.IntegerField()
    learning = ClassSkillSerializer(many=True, help_text="the classes of this level")
    min_alpha = serializers.FloatField()
    min_gold = serializers.IntegerField()


class ClassificationOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.IntegerField()
    glitch_class = serializers.CharField()
    created = serializers.BooleanField(help_text="false when this key was seen before")
    gold = GoldFeedbackSerializer(allow_null=True)
    late = serializers.BooleanField(
        help_text="the glitch had retired before this vote: kept, but its label and "
        "consensus did not change"
    )
    promoted = serializers.BooleanField()
    progress = ProgressSerializer()


class ClassificationWithNextOutSerializer(ClassificationOutSerializer):
    """The answer to a vote sent with with_next."""

    # Not required in the schema: a vote sent without with_next is answered without it.
    next = SubjectToLabelSerializer(
        required=False, allow_null=True, help_text="with with_next; null: the queue is empty"
    )


class UndoOutSerializer(serializers.Serializer):
    subject = SubjectToLabelSerializer()
    progress = ProgressSerializer()
