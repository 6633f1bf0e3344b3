from django.contrib import admin

from webapp.modeling.models import ModelVersion, Prediction


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name"]


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = ["subject", "model_version", "predicted_label", "created_at"]
    list_filter = ["model_version", "predicted_label"]
    raw_id_fields = ["subject"]
    search_fields = ["subject__external_id"]
