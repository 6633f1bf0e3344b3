"""Trained model versions and their per-subject predictions (extended by the Celery issue)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class ModelVersion(models.Model):
    name = models.CharField(max_length=128, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=False)  # at most one: the model that votes
    checkpoint_path = models.CharField(max_length=500, blank=True)
    class_names = models.JSONField(default=list, blank=True)  # output index -> class name
    metrics = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_model"
            )
        ]

    def __str__(self) -> str:
        return self.name + (" (active)" if self.is_active else "")


class Prediction(models.Model):
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="predictions"
    )
    subject = models.ForeignKey(
        "labeling.Subject", on_delete=models.CASCADE, related_name="predictions"
    )
    probabilities = models.JSONField(default=dict)  # {class name: p}, sums to 1
    predicted_label = models.CharField(max_length=64)
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
