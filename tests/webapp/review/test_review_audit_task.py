"""The ranking job over the database: retired and gold subjects, votes, stored suspects."""

from __future__ import annotations

import numpy as np
import pytest
from review_factories import gold_subject, retired_subject, volunteer, vote

from tasks import review as review_tasks
from webapp.review import selectors, services
from webapp.review.models import AuditRun

pytestmark = pytest.mark.django_db

CLASSES = ("Blip", "Whistle", "Koi_Fish")


@pytest.fixture
def looks(monkeypatch, settings, tmp_path):
    """Features without a CNN: each subject's vector sits at the centre of the class it
    *looks* like (registered here), so a wrong label is the only thing to find."""
    settings.VAR_DIR = tmp_path
    true_class: dict[int, str] = {}
    rng = np.random.default_rng(0)
    centres = {name: rng.normal(size=8) * 5 for name in CLASSES}

    def fake_embed(samples, version, task, cancel):  # every subject decodes
        vectors = [centres[true_class[int(s.id)]] + rng.normal(size=8) for s in samples]
        return list(range(len(samples))), np.stack(vectors)

    monkeypatch.setattr(review_tasks, "_embed", fake_embed)
    return true_class


def test_the_audit_ranks_a_wrong_retired_label_and_a_bad_gold_label_first(looks) -> None:
    for name in CLASSES:
        for _ in range(8):
            looks[retired_subject(name).pk] = name
    wrong = retired_subject("Blip")  # looks like a Whistle
    looks[wrong.pk] = "Whistle"
    bad_gold = gold_subject("Koi_Fish")  # looks like a Blip, and skilled volunteers say so
    looks[bad_gold.pk] = "Blip"
    for n in range(3):
        vote(volunteer(f"v{n}", {"Blip": {"Blip": 9}}), bad_gold, "Blip")

    run = services.audit_run_request(trigger=AuditRun.Trigger.COMMAND, enqueue=False)
    result = review_tasks.audit_labels.apply(args=[run.pk]).get()

    run.refresh_from_db()
    assert (result["status"], run.status, run.n_subjects, run.n_gold) == (
        "succeeded",
        "succeeded",
        26,
        1,
    )
    top = {s.subject_id: s for s in run.suspects.filter(rank__lt=2)}
    assert set(top) == {wrong.pk, bad_gold.pk}
    assert (top[wrong.pk].given_label, top[wrong.pk].suggested_label) == ("Blip", "Whistle")
    assert (top[bad_gold.pk].suggested_label, top[bad_gold.pk].is_gold) == ("Blip", True)
    assert top[bad_gold.pk].vote_agreement < 0.2
    # Nearest neighbours from both candidate classes, from the features the run stored.
    near = selectors.suspect_neighbours(suspect=top[wrong.pk], per_class=3)
    assert list(near) == ["Blip", "Whistle"]
    assert all(looks[s.pk] == "Whistle" for s in near["Whistle"])
    assert len(near["Blip"]) == 3


def test_a_redelivered_audit_does_nothing_twice(looks) -> None:
    for name in CLASSES[:2]:
        for _ in range(4):
            looks[retired_subject(name).pk] = name
    run = services.audit_run_request(trigger=AuditRun.Trigger.COMMAND, enqueue=False)
    review_tasks.audit_labels.apply(args=[run.pk]).get()
    count = run.suspects.count()
    again = review_tasks.audit_labels.apply(args=[run.pk]).get()
    assert again["status"] == "skipped"
    assert run.suspects.count() == count == 8


def test_the_beat_queues_one_audit_at_a_time(
    monkeypatch, django_capture_on_commit_callbacks
) -> None:
    queued = []
    monkeypatch.setattr(review_tasks.audit_labels, "delay", queued.append)
    assert review_tasks.audit_periodic()["queued"] is False  # nothing retired yet
    retired_subject("Blip")
    with django_capture_on_commit_callbacks(execute=True):
        assert review_tasks.audit_periodic()["queued"] is True
        assert review_tasks.audit_periodic()["queued"] is False
    assert len(queued) == AuditRun.objects.count() == 1


def test_the_command_audits_in_process(looks) -> None:
    from io import StringIO

    from django.core.management import call_command

    for name in CLASSES[:2]:
        for _ in range(4):
            looks[retired_subject(name).pk] = name
    out = StringIO()
    call_command("audit_labels", stdout=out)
    assert "succeeded: 8 subjects (0 gold)" in out.getvalue()
    assert AuditRun.objects.get().trigger == "command"
