from django.contrib import admin

from webapp.modeling.models import ModelVersion, Prediction, TrainingRun


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ["id", "status", "trigger", "device", "created_at", "started_at", "finished_at"]
    list_filter = ["status", "trigger"]
    readonly_fields = ["progress", "log", "heartbeat_at", "celery_task_id", "worker"]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "val_top1", "gate", "activated_at", "created_at"]
    list_filter = ["is_active", "gate"]
    search_fields = ["name"]
    readonly_fields = ["train_subject_ids", "val_subject_ids", "library_versions"]


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = ["subject", "model_version", "predicted_label", "confidence", "created_at"]
    list_filter = ["model_version", "predicted_label"]
    raw_id_fields = ["subject"]
    search_fields = ["subject__external_id"]
    exclude = ["embedding"]
