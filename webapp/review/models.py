"""Label audits: ranking runs, the suspected label errors they found, reviewers' verdicts,
and the log of every label a verdict changed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from webapp.jobs import JobRow
from webapp.labeling.models import Subject, class_display_name


class AuditRun(JobRow):
    """One ranking job: queued -> running -> succeeded | failed | cancelled. At most one is
    live."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule"  # the beat
        ADMIN = "admin"  # "Audit now" on the review page
        COMMAND = "command"

    LIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    kind = models.CharField(max_length=16, default="audit", editable=False)  # for the constraint
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.SCHEDULE)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # {"n_splits", "c", "model_votes", "features": "lite0-imagenet" | "active-model"}
    config = models.JSONField(default=dict, blank=True)
    features = models.CharField(max_length=200, blank=True)  # what the head was fitted on
    n_subjects = models.PositiveIntegerField(default=0)
    n_gold = models.PositiveIntegerField(default=0)
    n_issues = models.PositiveIntegerField(default=0)  # flagged by confident learning
    created_at = models.DateTimeField(auto_now_add=True)
    # worker, error, started_at, finished_at, heartbeat_at, cancel_requested: webapp.jobs.JobRow

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(status__in=["queued", "running"]),
                name="one_live_audit_run",
            )
        ]

    def __str__(self) -> str:
        return f"audit {self.pk} ({self.status})"

    @property
    def out_dir_name(self) -> str:
        """Folder under VAR_DIR/review/ holding this run's features (for neighbours)."""
        return f"audit-{self.pk}"


class Suspect(models.Model):
    """A subject whose label an audit doubts, with what the audit saw."""

    run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="suspects")
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="suspects")
    rank = models.PositiveIntegerField()  # 0 = most suspect
    given_label = models.CharField(max_length=64)  # retired (pool) or gold label at audit time
    suggested_label = models.CharField(max_length=64)  # the most likely other class
    score = models.FloatField()  # 1 - label quality of q[given], model + votes (ml.audit)
    is_issue = models.BooleanField(default=False)  # flagged by confident learning
    self_confidence = models.FloatField()  # the out-of-fold model's p[given]
    vote_agreement = models.FloatField(null=True, blank=True)  # volunteers' v[given]
    is_gold = models.BooleanField(default=False)
    probabilities = models.JSONField(default=dict)  # out-of-fold top 5 {class: p}

    class Meta:
        ordering = ["run", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["run", "subject"], name="one_suspect_per_run"),
        ]
        indexes = [models.Index(fields=["run", "rank"])]

    def __str__(self) -> str:
        return f"{self.subject}: {self.given_label} -> {self.suggested_label}?"

    @property
    def top3(self) -> list[tuple[str, float]]:
        return sorted(self.probabilities.items(), key=lambda kv: -kv[1])[:3]


class Verdict(models.Model):
    """A reviewer's answer on a suspect: the label is right, wrong (and what it is), or unclear."""

    class Decision(models.TextChoices):
        AGREE = "agree"
        RELABEL = "relabel"
        UNSURE = "unsure"

    # RESTRICT: deleting a suspect, or the audit run its suspects cascade from, is refused
    # while a verdict stands on it; before, it took the verdicts along, the log's rows lost
    # their verdict, and an 'agree' left no trace, so the glitch was asked about again.
    # Deleting the glitch itself still takes its verdicts (with its votes and its log).
    suspect = models.ForeignKey(Suspect, on_delete=models.RESTRICT, related_name="verdicts")
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="verdicts")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_verdicts"
    )
    decision = models.CharField(max_length=16, choices=Decision.choices)
    label_before = models.CharField(max_length=64)
    label_after = models.CharField(max_length=64)  # == label_before unless relabelled
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Taken back by its reviewer or an admin (services.verdict_undo): kept for the record,
    # it no longer counts anywhere (the queue, the export's label source), and the reviewer
    # may give the suspect a new verdict.
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    undo_reason = models.TextField(blank=True, default="", db_default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One standing verdict per reviewer and suspect: an undone one leaves room for
            # the reviewer's next.
            models.UniqueConstraint(
                fields=["suspect", "reviewer"],
                condition=Q(undone_at__isnull=True),
                name="one_verdict_per_reviewer",
            ),
            models.CheckConstraint(
                condition=Q(undone_at__isnull=True, undone_by__isnull=True)
                | Q(undone_at__isnull=False, undone_by__isnull=False),
                name="verdict_undone_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} {self.decision} {self.subject}"

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None

    @property
    def summary(self) -> str:
        """What was decided, as the pages say it ("relabelled Blip → Tomte", "Blip is right",
        "unsure (Blip)"): the list of verdicts, the last verdict's line and the undo's message
        all read this, so that they name one verdict alike."""
        before = class_display_name(self.label_before)
        if self.decision == Verdict.Decision.RELABEL:
            return f"relabelled {before} → {class_display_name(self.label_after)}"
        if self.decision == Verdict.Decision.AGREE:
            return f"{before} is right"
        return f"unsure ({before})"


class LabelChange(models.Model):
    """The log: one row per label a verdict, an undo of one or a class's deprecation changed
    (who, when, before, after, why)."""

    class Field(models.TextChoices):
        RETIRED_LABEL = "retired_label"
        GOLD_LABEL = "gold_label"

    class Cause(models.TextChoices):
        REVIEW = "review"  # a reviewer's relabel (verdict)
        REMAP = "remap"  # an admin deprecated the class; its labels moved to another
        UNDO = "undo"  # a reviewer's relabel taken back (`undoes`: that verdict)

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="label_changes")
    field = models.CharField(max_length=32, choices=Field.choices)
    cause = models.CharField(
        max_length=16, choices=Cause.choices, default=Cause.REVIEW, db_default=Cause.REVIEW
    )
    before = models.CharField(max_length=64)
    after = models.CharField(max_length=64)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="label_changes"
    )
    verdict = models.OneToOneField(
        Verdict, null=True, blank=True, on_delete=models.SET_NULL, related_name="change"
    )
    # The relabel this change takes back (cause undo). One-to-one: a verdict is undone once,
    # its gold answers regraded once, whatever the number of requests.
    undoes = models.OneToOneField(
        Verdict, null=True, blank=True, on_delete=models.SET_NULL, related_name="undo_change"
    )
    # A gold glitch retired with its answer has its retired label move with its gold label
    # (services._move_label); an undo moves both back. None: logged before this was kept.
    retired_label_too = models.BooleanField(null=True, blank=True)
    # The glitch's retired label right after this change ("" none): an undo is refused when
    # it differs now. A gold glitch can be retired with its label and no row here (the field
    # guide's Add, load_field_guide): putting the gold label back would leave it retired as
    # the other class. None: logged before this was kept (review 0008).
    retired_label_after = models.CharField(  # noqa: DJ001 (NULL is "not recorded", not "")
        max_length=64, null=True, blank=True
    )
    reason = models.TextField(blank=True)
    # Volunteers whose gold confusion counts were moved (gold changes only).
    volunteers_rescored = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.subject} {self.field}: {self.before} -> {self.after}"
