"""Reads about models and their predictions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from webapp.modeling.models import ModelVersion, Prediction

if TYPE_CHECKING:
    from webapp.labeling.models import Subject


def model_version_active() -> ModelVersion | None:
    return ModelVersion.objects.filter(is_active=True).first()


def prediction_probabilities_for_subject(*, subject: Subject) -> dict[str, float] | None:
    """The active model's class probabilities for a subject, or None if it has none."""
    prediction = (
        Prediction.objects.filter(subject=subject, model_version__is_active=True)
        .only("probabilities")
        .first()
    )
    if prediction is None:
        return None
    return {str(name): float(p) for name, p in prediction.probabilities.items()}
