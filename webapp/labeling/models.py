"""Glitch classes, subjects (one glitch and its images), volunteers' votes and their skill."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from webapp.labeling import validators

# A class's description (and a proposed class's, which becomes it) is shown on every
# labelling page and the field guide: a few sentences, never a page. TextField does not
# check max_length by itself (the admin's form does), so the validator does it for
# full_clean; the services and serializers read the same number.
CLASS_DESCRIPTION_MAX_LENGTH = 1000


def description_field(**kwargs: Any) -> models.TextField:
    return models.TextField(
        max_length=CLASS_DESCRIPTION_MAX_LENGTH,
        validators=[MaxLengthValidator(CLASS_DESCRIPTION_MAX_LENGTH)],
        **kwargs,
    )


class GlitchClass(models.Model):
    """One class of the registry in ml.classes, as volunteers see it."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        PROVISIONAL = "provisional"  # proposed by volunteers (discovery), not yet accepted
        DEPRECATED = "deprecated"  # kept so old votes stay readable; not offered

    name = models.CharField(max_length=64, unique=True)
    description = description_field(blank=True)
    tell_apart = description_field(
        blank=True,
        default="",
        db_default="",
        help_text="how to tell it from the classes it is often taken for (field guide)",
    )
    key = models.CharField(
        max_length=1, unique=True, null=True, blank=True, help_text="one-key shortcut"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    retire_threshold = models.FloatField(
        null=True, blank=True, help_text="overrides GLITCHLAB_RETIRE_THRESHOLD for this class"
    )
    order = models.PositiveIntegerField(default=0, help_text="registry order")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "name"]
        verbose_name_plural = "glitch classes"

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return class_display_name(self.name)


def class_display_name(name: str) -> str:
    """How people read a class name ("Koi_Fish" -> "Koi Fish"): the one rule, for the pages
    (the class_name template filter), the API's display_name and the map's legend."""
    return name.replace("_", " ")


class GlitchClassExample(models.Model):
    """A field-guide image of a class: one duration of one example glitch (Gravity Spy's
    golden examples and real glitches ship with the product; admins add gold subjects)."""

    glitch_class = models.ForeignKey(GlitchClass, on_delete=models.CASCADE, related_name="examples")
    image = models.ImageField(upload_to="field_guide/", validators=[validators.glitch_image])
    duration = models.FloatField(null=True, blank=True, validators=[validators.duration])
    caption = models.CharField(max_length=200, blank=True)
    source_name = models.CharField(max_length=200, help_text="original file name", blank=True)
    # The images of one example glitch (its durations) share a glitch_id; the primary one is
    # shown where there is room for one image (the 1 s view when there is one).
    glitch_id = models.CharField(max_length=128, blank=True, default="", db_default="")
    primary = models.BooleanField(default=True, db_default=True)
    simulated = models.BooleanField(
        default=False, db_default=False, help_text="made by the simulator, not LIGO"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["glitch_class", "source_name"], name="unique_example_per_source"
            )
        ]

    def __str__(self) -> str:
        return f"{self.glitch_class} example {self.source_name}"


def field_guide_glitch_id(subject_id: int) -> str:
    """GlitchClassExample.glitch_id of an example an admin made from a subject (the guide's
    "Add": labeling.services.glitch_class_example_from_subject)."""
    return f"subject-{subject_id}"


class Subject(models.Model):
    """One glitch: 1-4 spectrogram durations, where it came from, and its consensus state."""

    class Role(models.TextChoices):
        POOL = "pool"  # to be labelled by the crowd
        GOLD = "gold"  # known label; trains volunteers and measures their skill
        VALIDATION = "validation"  # known label; only ever used to validate models

    class Status(models.TextChoices):
        ACTIVE = "active"  # collecting votes
        RETIRED = "retired"  # consensus reached: retired_label holds the answer
        CLOSED = "closed"  # GLITCHLAB_CLOSE_AT_VOTES votes without consensus
        DISCOVERY = "discovery"  # enough None_of_the_Above votes: a candidate new class

    external_id = models.CharField(max_length=128)
    source = models.CharField(max_length=128, default="", blank=True)
    ifo = models.CharField(max_length=8, blank=True, help_text="detector, e.g. H1 or L1")
    gps_time = models.FloatField(null=True, blank=True, help_text="GPS time of the trigger")
    # What a detector scientist reads off a trigger (Gravity Spy's metadata CSV: gps_time is
    # its event_time); empty when the data set did not carry them. webapp.labeling.metadata
    # reads and writes them, ml.metadata parses them.
    channel = models.CharField(
        max_length=128, blank=True, default="", db_default="", help_text="e.g. H1:GDS-CALIB_STRAIN"
    )
    peak_frequency = models.FloatField(null=True, blank=True, help_text="Hz, of the loudest tile")
    central_freq = models.FloatField(null=True, blank=True, help_text="Hz")
    bandwidth = models.FloatField(null=True, blank=True, help_text="Hz")
    duration = models.FloatField(
        null=True, blank=True, help_text="s, of the glitch (not of a spectrogram's window)"
    )
    snr = models.FloatField(null=True, blank=True, help_text="signal-to-noise ratio")
    q_value = models.FloatField(null=True, blank=True, help_text="Q of the loudest tile")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.POOL)
    # The label the data came with (folder name); for gold subjects it is also gold_label.
    source_label = models.CharField(max_length=64, blank=True)
    gold_label = models.ForeignKey(
        GlitchClass, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    # Routing: the lowest volunteer level that sees this subject, and its rank in the queue
    # (higher first). Both are rewritten by the active-learning loop after each model.
    level = models.PositiveSmallIntegerField(default=1)
    priority = models.FloatField(default=0.0)

    # Consensus state, kept by webapp.labeling.services under a row lock.
    posterior = models.JSONField(default=dict, blank=True)  # {class name: W}
    views = models.PositiveIntegerField(default=0)  # votes that name a class
    n_votes = models.PositiveIntegerField(default=0)  # all votes
    n_none_votes = models.PositiveIntegerField(default=0)  # None_of_the_Above votes
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    retired_label = models.ForeignKey(
        GlitchClass, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    retired_at = models.DateTimeField(null=True, blank=True)
    # The model whose vote is in `posterior` (a ModelVersion's name, kept if the version
    # goes): for a subject that left the queue, the one its decision was made with. "" when
    # no model's is, NULL when not recorded (a posterior computed before 2026-12-06). A
    # name, not a key: three states, and it must outlive the version it names.
    consensus_model = models.CharField(  # noqa: DJ001 (NULL is "not recorded", not "")
        max_length=128, null=True, blank=True, default=""
    )
    # What the server found wrong with the image files when a volunteer's page could not
    # show them (services.subject_pictures_unseen; "file: why; ..."), or a check found
    # (services.subjects_check_pictures). While set, the queue hands the glitch to nobody;
    # its votes and state are kept. Blank: no problem known.
    pictures_problem = models.TextField(blank=True, default="", db_default="")

    created_at = models.DateTimeField(auto_now_add=True)

    # Not a column: the token of a subject handed to a volunteer (services.subject_assign).
    assignment: str

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="unique_subject_id"),
            models.CheckConstraint(
                condition=~Q(role="gold") | Q(gold_label__isnull=False),
                name="gold_subject_has_label",
            ),
        ]
        indexes = [
            # The volunteers' queue (labeling.selectors.subject_next_for_volunteer): open
            # subjects of a role in priority order, read from the top without a sort.
            models.Index(
                fields=["role", "-priority", "id"],
                condition=Q(status="active"),
                name="queue_order",
            ),
            # The few glitches with broken pictures (the dashboard counts them on each poll):
            # without it, a scan of every glitch (PostgreSQL, 300,000: 45 ms; with it 0.5 ms).
            models.Index(fields=["id"], condition=~Q(pictures_problem=""), name="pictures_broken"),
        ]

    def __str__(self) -> str:
        return self.external_id

    @property
    def retired(self) -> bool:
        return self.status == self.Status.RETIRED

    @property
    def is_gold(self) -> bool:
        return self.role == self.Role.GOLD

    @property
    def simulated(self) -> bool:
        """Drawn by our simulator (its source is one of GLITCHLAB_SIMULATED_SOURCES), not a
        detector's glitch."""
        return self.source in settings.GLITCHLAB_SIMULATED_SOURCES

    @property
    def from_gravity_spy(self) -> bool:
        """Imported from Gravity Spy's data (its source is one of
        GLITCHLAB_GRAVITYSPY_SOURCES): its id is Gravity Spy's."""
        return self.source in settings.GLITCHLAB_GRAVITYSPY_SOURCES and not self.simulated


def subject_image_path(instance: SubjectImage, filename: str) -> str:
    """An opaque, random name: a subject's image URL must not tell gold from pool (the old
    scheme, subjects/<source>/<external id>_<duration>, put "demo-gold" into every gold
    glitch's URL). What the name used to say stays in the database."""
    return opaque_image_name(filename)


def opaque_image_name(filename: str) -> str:
    token = uuid.uuid4().hex
    return f"subjects/{token[:2]}/{token}{_ext(filename)}"


def _ext(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:].lower() if dot != -1 else ""


class SubjectImage(models.Model):
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="images")
    duration = models.FloatField(
        help_text="time window in seconds: 0.5, 1, 2 or 4", validators=[validators.duration]
    )
    image = models.ImageField(upload_to=subject_image_path, validators=[validators.glitch_image])
    substituted = models.BooleanField(
        default=False, help_text="a copy of another duration (this one was missing)"
    )

    class Meta:
        ordering = ["duration"]
        constraints = [
            models.UniqueConstraint(fields=["subject", "duration"], name="one_image_per_duration")
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.duration}s"


class Classification(models.Model):
    """One volunteer's answer for one subject (None_of_the_Above is a GlitchClass row)."""

    # PROTECT: a vote is part of the labels retired, counted and exported (n_votes, views,
    # the posterior); deleting its volunteer would leave them adding up to votes that are
    # gone. Deactivate an account instead (docs/deploy.md).
    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="classifications"
    )
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="classifications")
    glitch_class = models.ForeignKey(GlitchClass, on_delete=models.PROTECT, related_name="+")
    seconds_taken = models.FloatField(null=True, blank=True)
    # The client's key for this vote: a retried or double-sent vote finds this row again.
    idempotency_key = models.UUIDField(default=uuid.uuid4)
    # W_i: the volunteer's confusion-matrix column for this answer at the time of the vote
    # ({class name: P(true class | this answer)}); empty for None_of_the_Above and gold.
    weight = models.JSONField(default=dict, blank=True)
    was_gold = models.BooleanField(default=False)
    was_correct = models.BooleanField(null=True, blank=True)  # gold subjects only
    # Cast after the subject had retired: kept (it is the volunteer's answer), but never part
    # of the subject's counts or consensus, so a late vote cannot move a decided label.
    after_retirement = models.BooleanField(default=False, db_default=False)
    # The volunteer has since seen the glitch's votes, consensus and predictions (shown to
    # those who voted): this vote can no longer be undone, or undo and vote again with the
    # crowd's answer would copy it into the consensus as an independent vote.
    answers_seen = models.BooleanField(default=False, db_default=False)
    # The class the volunteer chose, when an admin deprecated it and the vote moved to
    # glitch_class for the consensus (discovery's class_proposal_deprecate); null otherwise.
    # No index: read with the vote, never searched by, and the vote's insert stays as cheap.
    remapped_from = models.ForeignKey(
        GlitchClass,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["volunteer", "subject"], name="one_vote_per_subject"),
            models.UniqueConstraint(
                fields=["volunteer", "idempotency_key"], name="unique_idempotency_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} -> {self.glitch_class} on {self.subject}"


class VolunteerProfile(models.Model):
    """A volunteer's level and skill: their confusion matrix on gold subjects."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="volunteer_profile"
    )
    level = models.PositiveSmallIntegerField(default=1)  # only ever goes up
    # {true class: {answered class: count}} over gold subjects.
    gold_confusion = models.JSONField(default=dict, blank=True)
    # Votes given (gold included), kept with each vote and undo: the queue and the progress
    # panel read it on every request, where counting a long history would grow without bound.
    n_classified = models.PositiveIntegerField(default=0)
    promoted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The gold subject handed to them and not yet answered: the queue serves it again, and
    # no other gold, until they answer it (else `exclude` would pass over gold subjects
    # until one came whose answer they were sure of). Cleared by their vote on it.
    gold_due = models.ForeignKey(
        Subject, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.user} (level {self.level})"


@receiver([post_save, post_delete], sender=GlitchClass, dispatch_uid="glitchlab-class-table")
def _class_table_changed(**kwargs: object) -> None:
    """Now, and again when the change commits (so a copy read before the commit is not kept)."""
    from webapp.labeling import config  # config imports this module

    config.forget_class_table()
    transaction.on_commit(config.forget_class_table)
