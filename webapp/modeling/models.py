"""Training runs, the registry of trained model versions, and their per-subject predictions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from webapp.jobs import JobRow


class TrainingRun(JobRow):
    """One retraining job: queued -> running -> succeeded | failed | cancelled.

    At most one run is queued or running at any time; the database enforces it (the
    conditional unique constraint below), so two "Retrain now" clicks racing each other
    cannot both win.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    class Trigger(models.TextChoices):
        ADMIN = "admin"  # the dashboard's "Retrain now" button
        SCHEDULE = "schedule"  # the beat: enough new retired labels since the last model
        COMMAND = "command"  # manage.py retrain

    LIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    # Always "train"; it exists so the one-live-run constraint has a column to be unique on.
    kind = models.CharField(max_length=16, default="train", editable=False)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.ADMIN)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    config = models.JSONField(default=dict, blank=True)  # ml.train.TrainConfig as a dict
    celery_task_id = models.CharField(max_length=64, blank=True)
    device = models.CharField(max_length=100, blank=True)  # e.g. "cuda (NVIDIA H200)" or "cpu"
    # {"phase": "encode|train|evaluate|done", "epoch", "epochs", "step", "steps",
    #  "fraction": 0..1, "metrics": {...}} - what the dashboard's progress bar shows.
    progress = models.JSONField(default=dict, blank=True)
    log = models.TextField(blank=True)
    n_train = models.PositiveIntegerField(default=0)
    n_val = models.PositiveIntegerField(default=0)
    # The active model's top-1 on this run's validation set, measured in the same run so
    # the gate compares like with like.
    baseline_top1 = models.FloatField(null=True, blank=True)
    baseline_version = models.ForeignKey(
        "ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Its folder under VAR_DIR/models/, named when the run is made (training_run_request):
    # run-<id>-<created>. Empty: a run made before 2026-12-06, whose folder is run-<id>.
    folder = models.CharField(max_length=64, blank=True, default="", db_default="")
    # worker, error, started_at, finished_at, heartbeat_at, cancel_requested: webapp.jobs.JobRow

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(status__in=["queued", "running"]),
                name="one_live_training_run",
            )
        ]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE_STATUSES

    @property
    def out_dir_name(self) -> str:
        """Folder under VAR_DIR/models/ holding this run's outputs (`folder`). Its creation
        time makes it this run's alone: a database reset or restored while VAR_DIR is kept
        numbers runs again, and the retrain resumes from the folder's last.pt
        (tasks.training). A run made before names carried it keeps its folder, run-<id>, so
        that its retry still resumes."""
        return self.folder or f"run-{self.pk}"

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or self.heartbeat_at
        return (end - self.started_at).total_seconds() if end else None


class ModelVersion(models.Model):
    """A trained model in the registry; the active one votes and routes the queue."""

    class Gate(models.TextChoices):
        PENDING = "pending"
        PASSED = "passed"  # not significantly worse than the active model (webapp.modeling.gate)
        FAILED = "failed"  # significantly worse on the same validation glitches
        UNDECIDED = "undecided"  # too few validation glitches to tell: an admin decides

    name = models.CharField(max_length=128, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=False)  # at most one: the model that votes
    checkpoint_path = models.CharField(max_length=500, blank=True)
    # The checkpoint file's sha256 (hex), read once when the version is registered
    # (services.training_run_succeed): names the model's bytes wherever they are copied, where
    # `name` ("run-1") is this site's alone. Empty: not known (registered before 2026-12-08,
    # or the file was not there to read).
    checkpoint_sha256 = models.CharField(max_length=64, blank=True, default="", db_default="")
    class_names = models.JSONField(default=list, blank=True)  # output index -> class name
    # ml.evaluate's dict on the validation set: top1..top5, per_class, labels, confusion.
    metrics = models.JSONField(default=dict, blank=True)

    training_run = models.OneToOneField(
        TrainingRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="model_version"
    )
    model_dir = models.CharField(max_length=500, blank=True)  # holds best.pt, confusion.png
    val_top1 = models.FloatField(null=True, blank=True)
    # Ids of the subjects it trained on and was validated on (Subject primary keys).
    train_subject_ids = models.JSONField(default=list, blank=True)
    val_subject_ids = models.JSONField(default=list, blank=True)
    code_version = models.CharField(max_length=64, blank=True)  # git commit of the training code
    library_versions = models.JSONField(default=dict, blank=True)
    gate = models.CharField(max_length=16, choices=Gate.choices, default=Gate.PENDING)
    gate_reason = models.CharField(max_length=300, blank=True)
    # The paired comparison behind the verdict (ml.evaluate.PairedComparison as a dict:
    # n, a_only = new model alone right, b_only = active alone right, p_value, alpha).
    gate_comparison = models.JSONField(default=dict, db_default={}, blank=True)
    # Activation happens in two steps so that the old model serves until the new one is
    # ready: a request marks the version pending, the backlog is scored with it on the GPU
    # queue, and only then one transaction makes it active and re-routes every subject.
    activation_pending = models.BooleanField(default=False)
    activation_requested_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    scored_at = models.DateTimeField(null=True, blank=True)
    n_scored = models.PositiveIntegerField(default=0)
    n_rerouted = models.PositiveIntegerField(default=0)
    activation_error = models.TextField(blank=True)
    # The active version's last failure to score new subjects (its checkpoint gone or
    # unreadable, ...): shown on the dashboard until a scoring run succeeds.
    scoring_error = models.TextField(blank=True, default="", db_default="")
    # The beat's scoring of new subjects (tasks.predictions.score_unscored) queues one job
    # at a time: when it was queued, cleared when it ends. Without it a job waiting behind
    # a training on the GPU worker was joined by another at every beat.
    scoring_queued_at = models.DateTimeField(null=True, blank=True)
    # Subjects the last scoring could not decode (logged and skipped): alone they do not
    # make the beat queue another job, which would load the model to fail on them again.
    unscorable_subject_ids = models.JSONField(default=list, db_default=[], blank=True)
    # The re-route owed once the beat's scoring gave new subjects the active version's
    # prediction (activate_and_reroute): when it was queued, cleared when it ends; and why
    # the last one failed (its error, its worker lost, the broker refused it), shown on the
    # dashboard until one succeeds. Until then the new subjects wait unranked (priority 0),
    # and the beat queues the failed re-route again: nothing else would, the predictions
    # being there (score_unscored).
    reroute_queued_at = models.DateTimeField(null=True, blank=True)
    reroute_error = models.TextField(blank=True, default="", db_default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_model"
            ),
            models.UniqueConstraint(
                fields=["activation_pending"],
                condition=Q(activation_pending=True),
                name="one_pending_activation",
            ),
        ]

    def __str__(self) -> str:
        return self.name + (" (active)" if self.is_active else "")

    @property
    def confusion_png(self) -> str:
        return f"{self.model_dir}/confusion.png" if self.model_dir else ""


class Prediction(models.Model):
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="predictions"
    )
    subject = models.ForeignKey(
        "labeling.Subject", on_delete=models.CASCADE, related_name="predictions"
    )
    probabilities = models.JSONField(default=dict)  # {class name: p}, sums to 1
    predicted_label = models.CharField(max_length=64)
    # max p, and p1 - p2 (small margin: the model hesitates between two classes).
    confidence = models.FloatField(null=True, blank=True)
    margin = models.FloatField(null=True, blank=True)
    # The embedding reduced to ml.active.PROJECTED_DIMS float16 values, for the diversity
    # term of the queue ranking (ml.active.project_embeddings).
    embedding = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "subject"], name="one_prediction_per_model"
            )
        ]

    def __str__(self) -> str:
        return f"{self.model_version.name}: {self.subject} -> {self.predicted_label}"


class WorkerBeat(models.Model):
    """A Celery worker's last sign of life, written by the worker itself every
    GLITCHLAB_HEARTBEAT_EVERY_S (tasks.celery): what the dashboard shows as the live
    workers, read from the database so that the page never waits on the broker."""

    hostname = models.CharField(max_length=200, unique=True)
    queues = models.JSONField(default=list, blank=True)  # the queue names it consumes
    takes_gpu_jobs = models.BooleanField(default=False)  # consumes tasks.queues.GPU
    seen_at = models.DateTimeField()

    class Meta:
        ordering = ["hostname"]

    def __str__(self) -> str:
        return f"{self.hostname} (seen {self.seen_at:%H:%M:%S})"


class ClaimHolder(models.Model):
    """The task at work on a claim that has no job row of its own: which worker, and its
    heartbeat, as a job row records them (webapp.jobs). A version's scoring (its pending
    activation, or the beat's `scoring_queued_at`), its switch (`activation_pending`, or
    the owed `reroute_queued_at`), an embedding set's map (`map_queued_at`). Made when the
    task starts, beaten while it works, deleted when it ends: a worker killed whole (a host
    reboot) leaves it behind, and its restart or the reaper end the claim, saying why
    (webapp.modeling.services.claims_fail_lost). Before, nothing recorded who worked on
    these claims: they stayed held for the hours of their own staleness limits.

    A row of its own, not fields on the version: the switch holds its version's row lock
    for as long as it runs, and a beat written there would wait for it (the switch would
    look silent; the beat's scoring of the active model would wait behind its re-route)."""

    class Kind(models.TextChoices):
        SCORING = "scoring"  # tasks.predictions.score_subjects of ModelVersion object_id
        SWITCH = "switch"  # tasks.predictions.activate_and_reroute of ModelVersion object_id
        MAP = "map"  # tasks.discovery.cluster_subjects of EmbeddingSet object_id

    kind = models.CharField(max_length=16, choices=Kind.choices)
    object_id = models.PositiveBigIntegerField()
    worker = models.CharField(max_length=200, blank=True)  # Celery hostname of the task
    # The database's clock, as every job time (webapp.jobs).
    created_at = models.DateTimeField(db_default=Now())
    heartbeat_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["kind", "object_id"]
        constraints = [
            # One task at a time works on a claim: a second delivery does nothing meanwhile.
            models.UniqueConstraint(fields=["kind", "object_id"], name="one_holder_per_claim")
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.object_id} on {self.worker or '?'}"
