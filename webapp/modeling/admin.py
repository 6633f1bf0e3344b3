"""Admin: training runs and model versions, shown read-only (the jobs and the dashboard
write them), and the predictions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from webapp.modeling.models import ModelVersion, Prediction, TrainingRun
from webapp.read_only_admin import ReadOnlyAdmin

TO_SWITCH = (
    "Read-only: the active model changes only through Promote and Roll back on the "
    '<a href="{}">models dashboard</a>, which score the open glitches with the chosen '
    "version first and then switch it and re-route the queue in one transaction. Ticking "
    "is_active here would skip both: the new model active with no predictions, the queue "
    "still ranked by the old one. A retraining is started, cancelled and retried there too."
)


def dashboard_note() -> str:
    return format_html(TO_SWITCH, reverse("modeling:dashboard"))


def in_use(version: ModelVersion) -> bool:
    """The active version votes and ranks the queue, and a pending one is being scored to
    replace it: deleting either (or its predictions, embeddings) leaves no model, or a
    switch to nothing. An old one, and what it made, may go."""
    return version.is_active or version.activation_pending


class JobWrittenAdmin(ReadOnlyAdmin):
    """Shown, never added or edited here: the training task and the dashboard's services
    write these rows, and every field is either their state (a live run, the active model)
    or what a run measured. The note on how to act comes first on the page. Deleted as
    Django's admin deletes, where the subclass allows it."""

    readonly_fields = ["to_switch"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return admin.ModelAdmin.has_delete_permission(self, request, obj)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fields = [f for f in super().get_fields(request, obj) if f != "to_switch"]
        return ["to_switch", *fields]

    @admin.display(description="to switch or retrain")
    def to_switch(self, obj: object) -> str:
        return dashboard_note()


@admin.register(TrainingRun)
class TrainingRunAdmin(JobWrittenAdmin):
    list_display = ["id", "status", "trigger", "device", "created_at", "started_at", "finished_at"]
    list_filter = ["status", "trigger"]

    def has_delete_permission(self, request: HttpRequest, obj: TrainingRun | None = None) -> bool:
        # A queued or running run has a task working on it: deleted, it would train on and
        # register a model for a row that is gone, and free the one-live-run slot for a
        # second training on the same GPU. Cancel it on the dashboard first.
        return super().has_delete_permission(request, obj) and not (obj and obj.is_live)


@admin.register(ModelVersion)
class ModelVersionAdmin(JobWrittenAdmin):
    list_display = ["name", "is_active", "val_top1", "gate", "activated_at", "created_at"]
    list_filter = ["is_active", "gate"]
    search_fields = ["name"]

    def has_delete_permission(self, request: HttpRequest, obj: ModelVersion | None = None) -> bool:
        # Roll back to another version first (in_use); an old one may go.
        return super().has_delete_permission(request, obj) and not (obj and in_use(obj))


class MadeByAModelAdmin(ReadOnlyAdmin):
    """Never edited; an old model version's rows go with it when the version is deleted
    (the admin asks this of each before deleting the version: refused, no old version
    could be deleted). The active or pending version's stay (modeling.admin.in_use)."""

    def version(self, obj: Any) -> ModelVersion:
        raise NotImplementedError

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        deletable = obj is not None and not in_use(self.version(obj))
        return deletable and admin.ModelAdmin.has_delete_permission(self, request, obj)


@admin.register(Prediction)
class PredictionAdmin(MadeByAModelAdmin):
    list_display = ["subject", "model_version", "predicted_label", "confidence", "created_at"]
    list_filter = ["model_version", "predicted_label"]
    raw_id_fields = ["subject"]
    search_fields = ["subject__external_id"]
    exclude = ["embedding"]

    def version(self, obj: Prediction) -> ModelVersion:  # a prediction is its model's vote
        return obj.model_version
