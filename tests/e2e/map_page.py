"""What the map's browser tests share: twelve glitches on the map, and logging in to it."""

import sys
from pathlib import Path

import numpy as np
from webapp_factories import UserFactory, glitch_class

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "webapp" / "discovery"))
from discovery_factories import stored_cluster  # noqa: E402

from webapp.discovery import services  # noqa: E402
from webapp.discovery.models import EmbeddingSet  # noqa: E402
from webapp.labeling.models import Classification, Subject  # noqa: E402

CLASSES = ["Koi_Fish", "Air_Compressor", "None_of_the_Above", "Power_Line", "Blip"]


def twelve_glitches_on_the_map() -> list[Subject]:
    """12 glitches on the map: 5 retired with 5 classes, 7 open (unlabelled), 2 of them
    already answered by ann (level 2)."""
    _, subjects, _, _ = stored_cluster(n=12)
    embedding_set = EmbeddingSet.objects.get()
    services.map_store(set_id=embedding_set.pk, xy=np.random.default_rng(0).normal(size=(12, 2)))
    for subject, name in zip(subjects, CLASSES, strict=False):
        subject.status = Subject.Status.RETIRED
        subject.retired_label = glitch_class(name)
        subject.save()
    ann = UserFactory(username="ann", profile__level=2)
    for subject in subjects[5:7]:
        Classification.objects.create(
            volunteer=ann, subject=subject, glitch_class=glitch_class("Blip")
        )
    return subjects


def log_in(page, username: str, then: str) -> None:
    page.goto(f"/accounts/login/?next={then}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"**{then}")
