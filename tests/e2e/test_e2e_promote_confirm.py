"""Promote and roll back switch the model every volunteer's queue is routed by: the page
asks first, with the gate's verdict in the question, and a dismissed question sends nothing."""

import pytest
from dashboard_page import admin_on_dashboard

from webapp.modeling.models import ModelVersion, TrainingRun

pytestmark = pytest.mark.e2e


def test_promote_asks_with_the_gate_verdict_and_does_nothing_when_dismissed(
    page, seeded, django_user_model
):
    ModelVersion.objects.create(name="old", is_active=True)
    run = TrainingRun.objects.create(status=TrainingRun.Status.SUCCEEDED)
    new = ModelVersion.objects.create(
        name="run-7", training_run=run, gate="failed", gate_reason="top-1 0.80 < active 0.82"
    )
    admin_on_dashboard(page, django_user_model)
    questions: list[str] = []

    def dismiss(dialog) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_test_id(f"promote-{new.pk}").click()
    page.wait_for_timeout(500)

    new.refresh_from_db()
    assert not new.activation_pending  # a misclick no longer switches the model
    assert "run-7" in questions[0] and "failed" in questions[0] and "0.82" in questions[0]

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_test_id(f"promote-{new.pk}").click()
    new.refresh_from_db()
    assert new.activation_pending
