"""Discovery: embeddings of every subject per model, their map and clusters, batches of
similar glitches labelled in one action, and the lifecycle of classes volunteers propose."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from webapp.jobs import JobRow
from webapp.labeling.models import description_field


class EmbeddingSet(JobRow):
    """The embeddings (and the 2-D map) of every subject under one model version.

    The vectors live in a .npz file under VAR_DIR/discovery/ (ids, embeddings float32, xy
    float32 once the map is computed): one file per version, rewritten atomically.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        READY = "ready"  # embeddings written
        FAILED = "failed"
        CANCELLED = "cancelled"  # by an admin; the next activation (or a refresh) redoes it

    LIVE_STATUSES = (Status.PENDING, Status.RUNNING)

    model_version = models.OneToOneField(
        "modeling.ModelVersion", on_delete=models.CASCADE, related_name="embedding_set"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    path = models.CharField(max_length=500, blank=True)
    n_subjects = models.PositiveIntegerField(default=0)
    dim = models.PositiveIntegerField(default=0)
    has_map = models.BooleanField(default=False)  # the file holds the 2-D UMAP too
    # When tasks.discovery.cluster_subjects (the map and clusters of these embeddings) was
    # queued; None once it ended, or if it was never queued. Its claim: one at a time, and
    # the page tells a map being made from one nothing is making. Once the embeddings are
    # ready, `error` says why their map or clusters were not made (refused, failed).
    map_queued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # worker, error, started_at, finished_at, heartbeat_at, cancel_requested: webapp.jobs.JobRow

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"embeddings of {self.model_version_id} ({self.status})"


class ClusterRun(models.Model):
    """One clustering of the None_of_the_Above / low-confidence / discovery subjects."""

    embedding_set = models.ForeignKey(
        EmbeddingSet, on_delete=models.CASCADE, related_name="cluster_runs"
    )
    params = models.JSONField(default=dict, blank=True)  # GlitchClusterer.get_params()
    n_subjects = models.PositiveIntegerField(default=0)
    n_clusters = models.PositiveIntegerField(default=0)
    n_noise = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"clustering {self.pk}: {self.n_clusters} clusters"


class Cluster(models.Model):
    run = models.ForeignKey(ClusterRun, on_delete=models.CASCADE, related_name="clusters")
    index = models.PositiveIntegerField()  # 0 = the largest
    subject_ids = models.JSONField(default=list)  # members, nearest to the centre first
    size = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["run", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="unique_cluster_index")
        ]

    def __str__(self) -> str:
        return f"cluster {self.index} of run {self.run_id} ({self.size})"


class ClassProposal(models.Model):
    """A new class suggested by a volunteer: proposed -> provisional -> accepted ->
    (deprecated); or rejected. Each change writes a ProposalEvent (who, when)."""

    class Status(models.TextChoices):
        PROPOSED = "proposed"  # a name and a description, waiting for a reviewer
        PROVISIONAL = "provisional"  # a provisional GlitchClass: offered in batches, collects votes
        ACCEPTED = "accepted"  # an active class of the registry with a key
        DEPRECATED = "deprecated"  # its labels moved to `remapped_to`
        REJECTED = "rejected"

    name = models.CharField(max_length=64, unique=True)
    description = description_field()  # becomes the class's description
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    glitch_class = models.OneToOneField(
        "labeling.GlitchClass",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="proposal",
    )
    remapped_to = models.ForeignKey(
        "labeling.GlitchClass", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class ProposalEvent(models.Model):
    proposal = models.ForeignKey(ClassProposal, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=16, choices=ClassProposal.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.proposal.name} -> {self.status}"


class Batch(models.Model):
    """A sheet of similar glitches shown to one volunteer, and the one label they gave.

    Submitting is idempotent: a batch is submitted once (compare-and-set on submitted_at);
    each selected subject gets the volunteer's vote through the labelling services.
    """

    class Source(models.TextChoices):
        CLUSTER = "cluster"
        LASSO = "lasso"  # selected on the map

    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="discovery_batches"
    )
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.CLUSTER)
    cluster = models.ForeignKey(
        Cluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="batches"
    )
    subject_ids = models.JSONField(default=list)  # shown, in order
    selected_ids = models.JSONField(default=list, blank=True)  # given the label
    class_name = models.CharField(max_length=64, blank=True)  # the label given
    proposal = models.ForeignKey(
        ClassProposal, null=True, blank=True, on_delete=models.SET_NULL, related_name="batches"
    )
    n_voted = models.PositiveIntegerField(default=0)
    n_skipped = models.PositiveIntegerField(default=0)  # already answered by this volunteer
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    key = models.UUIDField(default=uuid.uuid4, unique=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A volunteer has one sheet in hand: a second click or tab reuses or replaces it.
            models.UniqueConstraint(
                fields=["volunteer"],
                condition=models.Q(submitted_at__isnull=True),
                name="one_open_batch_per_volunteer",
            )
        ]

    def __str__(self) -> str:
        return f"batch {self.pk} of {self.volunteer} ({len(self.subject_ids)})"


class ProposalVote(models.Model):
    """A volunteer's vote for a not-yet-accepted class on one subject. In consensus it
    counts as None_of_the_Above (the registry does not know the class yet); acceptance
    turns these subjects into the new class's gold examples."""

    proposal = models.ForeignKey(ClassProposal, on_delete=models.CASCADE, related_name="votes")
    subject = models.ForeignKey(
        "labeling.Subject", on_delete=models.CASCADE, related_name="proposal_votes"
    )
    # PROTECT, as a vote (labeling.Classification): acceptance counts these.
    volunteer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    batch = models.ForeignKey(Batch, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["volunteer", "subject"], name="one_proposal_vote_per_subject"
            )
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} -> {self.proposal.name} on {self.subject_id}"
