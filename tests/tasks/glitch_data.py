"""Tiny, separable glitch subjects for the modelling tests: bare viridis crops (64x48 px)
whose bright track sits where its class puts it, written through the labelling models.

Shared by tests/tasks, tests/webapp/modeling and tests/e2e/test_dashboard*.py (the latter
two add this folder to sys.path).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence

import matplotlib
import numpy as np
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from webapp.labeling.models import GlitchClass, Subject, SubjectImage

DURATIONS = (0.5, 1.0, 2.0, 4.0)
# Where each class draws its track (a short vertical stripe at x, or a horizontal line at y).
SHAPES: dict[str, tuple[str, float]] = {
    "Blip": ("vertical", 0.5),
    "Whistle": ("horizontal", 0.2),
    "Koi_Fish": ("vertical", 0.2),
    "Power_Line": ("horizontal", 0.8),
}


def glitch_png(label: str, rng: np.random.Generator, size: tuple[int, int] = (64, 48)) -> bytes:
    width, height = size
    energy = rng.uniform(0.0, 0.25, size=(height, width))
    kind, where = SHAPES[label]
    if kind == "vertical":
        x = int(where * width)
        energy[height // 4 : 3 * height // 4, max(x - 2, 0) : x + 2] = 1.0
    else:
        y = int(where * height)
        energy[max(y - 2, 0) : y + 2, width // 8 : 7 * width // 8] = 1.0
    rgb = np.rint(matplotlib.colormaps["viridis"](energy)[..., :3] * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def make_subject(
    label: str,
    *,
    role: str = Subject.Role.POOL,
    retired: bool = False,
    rng: np.random.Generator | None = None,
    durations: Sequence[float] = DURATIONS,
) -> Subject:
    """A subject with one image per duration. role gold/validation carry the label; a pool
    subject is retired with that label when `retired`, else open (its label unknown)."""
    rng = rng or np.random.default_rng()
    if not GlitchClass.objects.filter(name=label).exists():
        # A transactional test before this one flushed the rows the migration seeded.
        from webapp.labeling.services import glitch_classes_sync

        glitch_classes_sync()
    glitch_class = GlitchClass.objects.get(name=label)
    subject = Subject.objects.create(
        external_id=f"H1_{uuid.uuid4().hex[:10]}",
        source="modeling-test",
        ifo="H1",
        role=role,
        source_label=label if role != Subject.Role.POOL else "",
        gold_label=glitch_class if role == Subject.Role.GOLD else None,
    )
    if retired:
        subject.status = Subject.Status.RETIRED
        subject.retired_label = glitch_class
        subject.retired_at = timezone.now()
        subject.save(update_fields=["status", "retired_label", "retired_at"])
    for duration in durations:
        image = SubjectImage(subject=subject, duration=duration)
        image.image.save(
            f"{subject.external_id}_{duration}.png", ContentFile(glitch_png(label, rng)), save=False
        )
        image.save()
    return subject


def make_dataset(
    *,
    labels: Sequence[str] = ("Blip", "Whistle"),
    retired_per_class: int = 6,
    gold_per_class: int = 2,
    validation_per_class: int = 3,
    open_per_class: int = 4,
    seed: int = 0,
) -> dict[str, list[Subject]]:
    """A small world: retired + gold (train), validation, and open pool subjects."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[Subject]] = {"train": [], "validation": [], "open": []}
    for label in labels:
        for _ in range(retired_per_class):
            out["train"].append(make_subject(label, retired=True, rng=rng))
        for _ in range(gold_per_class):
            out["train"].append(make_subject(label, role=Subject.Role.GOLD, rng=rng))
        for _ in range(validation_per_class):
            out["validation"].append(make_subject(label, role=Subject.Role.VALIDATION, rng=rng))
        for _ in range(open_per_class):
            out["open"].append(make_subject(label, rng=rng))
    return out


TINY_TRAIN_CONFIG = {
    "backbone": "efficientnet_lite0",
    "image_size": 32,
    "epochs": 1,
    "batch_size": 8,
    "head_only": True,
    "device": "cpu",
    "seed": 0,
}


def apply_tiny_training(settings, **overrides) -> None:
    """Make retrains tiny (CPU, 32 px, 1 epoch, head only unless overridden)."""
    config = {**TINY_TRAIN_CONFIG, **overrides}
    settings.GLITCHLAB_TRAIN_BACKBONE = config["backbone"]
    settings.GLITCHLAB_TRAIN_IMAGE_SIZE = config["image_size"]
    settings.GLITCHLAB_TRAIN_EPOCHS = config["epochs"]
    settings.GLITCHLAB_TRAIN_BATCH_SIZE = config["batch_size"]
    settings.GLITCHLAB_TRAIN_DEVICE = config["device"]
    settings.GLITCHLAB_TRAIN_HEAD_ONLY = config["head_only"]
