"""Sync the GlitchClass table with ml.classes; shared by the data migration and seed_demo.

Takes the model class as an argument so that a migration can pass its historical model.
"""

from __future__ import annotations

from typing import Any

from ml.classes import CANONICAL_CLASSES
from webapp.labeling import config
from webapp.labeling.keys import assign_keys


def sync_glitch_classes(glitch_class_model: Any) -> int:
    """Create missing canonical classes and give keyless classes a key; returns rows created."""
    created = 0
    # A migration before labeling 0017 passes a model without tell_apart; 0017 fills it in.
    fields = {f.name for f in glitch_class_model._meta.get_fields()}
    for order, info in enumerate(CANONICAL_CLASSES):
        _, was_created = glitch_class_model.objects.get_or_create(
            name=info.name,
            defaults={
                "description": info.description,
                "order": order,
                **({"tell_apart": info.tell_apart} if "tell_apart" in fields else {}),
            },
        )
        created += was_created
    keyless = list(glitch_class_model.objects.filter(key__isnull=True))
    if keyless:
        taken = set(
            glitch_class_model.objects.filter(key__isnull=False).values_list("key", flat=True)
        )
        level_order = [name for added in config.levels() for name in added]

        def priority(row: Any) -> tuple[int, int]:
            rank = level_order.index(row.name) if row.name in level_order else len(level_order)
            return rank, row.order

        keys = assign_keys([row.name for row in sorted(keyless, key=priority)], taken)
        for row in keyless:
            row.key = keys.get(row.name)
            row.save(update_fields=["key"])
    return created
