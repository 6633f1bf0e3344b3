"""The Django admin shows training runs and model versions but cannot switch the active model,
change a run's state, or delete what a job or the queue is using."""

from __future__ import annotations

from typing import Any

import pytest
from django.forms import CheckboxInput, MultiWidget
from webapp_factories import SubjectFactory

from webapp.discovery.models import ClusterRun, EmbeddingSet
from webapp.modeling.models import ModelVersion, Prediction, TrainingRun

pytestmark = pytest.mark.django_db


def version(name: str, **kwargs: Any) -> ModelVersion:
    return ModelVersion.objects.create(name=name, class_names=["Blip", "Whistle"], **kwargs)


def saved_as_shown(client, url: str, **changes: Any):
    """POST the admin's change form as its page shows it, with `changes`: what an admin who
    edits one field and presses Save sends. A read-only page has no form to send."""
    form = client.get(url).context["adminform"].form
    data: dict[str, Any] = {}
    for field in form:
        value = field.field.prepare_value(field.value())
        if isinstance(field.field.widget, MultiWidget):  # the admin's date + time
            for i, part in enumerate(field.field.widget.decompress(value)):
                data[f"{field.html_name}_{i}"] = part or ""
        elif isinstance(field.field.widget, CheckboxInput):
            if value:
                data[field.html_name] = "on"
        else:
            data[field.html_name] = "" if value is None else value
    for name, value in changes.items():
        data.pop(name, None)
        if value is not False:
            data[name] = "on" if value is True else value
    return client.post(url, data)


def test_ticking_is_active_in_the_admin_does_not_switch_the_model(admin_client):
    """Before: an admin unticked is_active on the old version and ticked it on the new one,
    and both saved: the dashboard said the new model was active with 0 predictions, and the
    queue kept the old model's levels and priorities. Now the version's page is read-only,
    sends them to Promote / Roll back on the dashboard, and a POST is refused."""
    old, new = version("old", is_active=True), version("new", gate="passed")

    page = "/admin/modeling/modelversion/{}/change/"
    unticked = saved_as_shown(admin_client, page.format(old.pk), is_active=False)
    ticked = saved_as_shown(admin_client, page.format(new.pk), is_active=True)

    assert (unticked.status_code, ticked.status_code) == (403, 403)
    assert list(ModelVersion.objects.filter(is_active=True)) == [old]
    assert not ModelVersion.objects.filter(activation_pending=True).exists()
    shown = admin_client.get(page.format(new.pk)).content.decode()
    assert "Promote and Roll back" in shown and 'href="/modeling/"' in shown


def test_the_admin_cannot_delete_the_active_or_the_pending_version_but_an_old_one(admin_client):
    """Before: the active version could be deleted in the admin, taking its predictions with
    it and leaving the queue with no model. Now the active version and one being scored to
    replace it are refused, on their page and in the list's delete action; an old version
    still goes, with the predictions, embeddings and clusters it made (refused before
    2026-12-07's day's-diff review: those rows' own admins allowed no delete)."""
    active, pending = version("active", is_active=True), version("pending")
    pending.activation_pending = True
    pending.save()
    old = version("old")
    for made_by in (active, pending, old):
        Prediction.objects.create(
            model_version=made_by, subject=SubjectFactory(), predicted_label="Blip"
        )
        embeddings = EmbeddingSet.objects.create(model_version=made_by, status="ready")
        ClusterRun.objects.create(embedding_set=embeddings)

    for kept in (active, pending):
        answer = admin_client.post(
            f"/admin/modeling/modelversion/{kept.pk}/delete/", {"post": "yes"}
        )
        assert answer.status_code == 403
    admin_client.post(
        "/admin/modeling/modelversion/",
        {"action": "delete_selected", "_selected_action": [active.pk, pending.pk], "post": "yes"},
    )
    admin_client.post(f"/admin/modeling/modelversion/{old.pk}/delete/", {"post": "yes"})

    assert set(ModelVersion.objects.values_list("name", flat=True)) == {"active", "pending"}
    assert not Prediction.objects.filter(model_version__name="old").exists()
    for kept in (active, pending):  # their rows cannot be deleted one by one either
        [prediction] = kept.predictions.all()
        url = f"/admin/modeling/prediction/{prediction.pk}/delete/"
        assert admin_client.post(url, {"post": "yes"}).status_code == 403


def test_a_running_training_run_keeps_its_status_and_is_not_deleted_in_the_admin(admin_client):
    """Before: an admin could set a running run's status to succeeded (freeing the one-live-
    run slot while the GPU still trained) or delete the row under its task. Now the status
    is read-only and a live run cannot be deleted (cancel it on the dashboard); a finished
    run still can."""
    running = TrainingRun.objects.create(status=TrainingRun.Status.RUNNING, worker="gpu@h")
    url = f"/admin/modeling/trainingrun/{running.pk}/"
    changed = saved_as_shown(admin_client, url + "change/", status="succeeded")
    deleted = admin_client.post(url + "delete/", {"post": "yes"})
    running.refresh_from_db()
    assert (changed.status_code, deleted.status_code, running.status) == (403, 403, "running")

    running.status = TrainingRun.Status.FAILED
    running.save()
    admin_client.post(url + "delete/", {"post": "yes"})
    assert not TrainingRun.objects.exists()
