"""Each audit stores the features of every subject it ranked under
VAR_DIR/review/audit-<id>/ (about 2.6 kB a subject, one audit a day by default): only the
latest finished audit's are read (its suspects' neighbours), so a succeeded audit removes
the older folders, and a failed one removes nothing."""

from __future__ import annotations

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse
from review_factories import retired_subject, reviewer

from tasks import review as review_tasks
from webapp.review import selectors, services
from webapp.review.models import AuditRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def embed(monkeypatch, settings, tmp_path):
    """Features without a CNN (a Blip looks like a Blip, one of them like a Whistle); set
    `broken` to make the next audits fail as they store their suspects (their features
    written)."""
    settings.VAR_DIR = tmp_path
    rng = np.random.default_rng(0)
    looks: dict[int, str] = {}
    centres = {"Blip": np.full(8, 5.0), "Whistle": np.full(8, -5.0)}
    state = {"broken": False}

    def fake_embed(samples, version, task, cancel):
        vectors = [centres[looks[int(s.id)]] + rng.normal(size=8) for s in samples]
        return list(range(len(samples))), np.stack(vectors)

    monkeypatch.setattr(review_tasks, "_embed", fake_embed)
    store = services.audit_run_store

    def audit_run_store(**kwargs):
        if state["broken"]:
            raise OSError("the database is gone")
        return store(**kwargs)

    monkeypatch.setattr(services, "audit_run_store", audit_run_store)
    for name in ("Blip", "Whistle"):
        for _ in range(6):
            looks[retired_subject(name).pk] = name
    looks[retired_subject("Blip").pk] = "Whistle"
    return state


def audit() -> AuditRun:
    run = services.audit_run_request(trigger=AuditRun.Trigger.SCHEDULE, enqueue=False)
    # throw=False: the run's row says how it ended, whatever another test left eager mode's
    # task_eager_propagates at
    review_tasks.audit_labels.apply(args=[run.pk], throw=False)
    run.refresh_from_db()
    return run


def folders(tmp_path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "review").iterdir() if p.is_dir())


def test_a_succeeded_audit_keeps_only_its_own_folder(embed, tmp_path) -> None:
    runs = [audit() for _ in range(3)]  # three days of the beat's audit
    assert [r.status for r in runs] == ["succeeded"] * 3
    assert folders(tmp_path) == [f"audit-{runs[-1].pk}"]  # before: audit-1, -2 and -3
    # the features cached per model version stay: the next audit embeds only new subjects
    assert list((tmp_path / "review").glob("features-*.npz"))

    embed["broken"] = True
    failed = audit()
    assert failed.status == "failed"
    assert f"audit-{runs[-1].pk}" in folders(tmp_path)  # the one in use stays

    client = Client()
    client.force_login(reviewer())
    page = client.get(reverse("review:queue"), follow=True)
    assert page.status_code == 200
    assert page.context["suspect"].run_id == runs[-1].pk
    assert any(page.context["neighbours"].values())  # from the latest audit's features
    # an older audit's suspect, opened by its address, says its features are gone
    old = runs[0].suspects.first()
    page = client.get(reverse("review:suspect", args=[old.pk]))
    assert page.status_code == 200
    assert "No neighbours (the audit's features are gone)" in page.content.decode()


def test_a_live_audit_folder_is_in_use(embed) -> None:
    done = audit()
    live = services.audit_run_request(trigger=AuditRun.Trigger.SCHEDULE, enqueue=False)
    assert selectors.audit_dirs_in_use() == {done.out_dir_name, live.out_dir_name}
