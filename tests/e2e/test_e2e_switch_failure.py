"""A switch that fails while the admin watches the models dashboard: the page (its status
poll) brings up the reason as text, without a reload by hand, and then stays put."""

import pytest
from dashboard_page import admin_on_dashboard
from django.utils import timezone

from webapp.modeling import services
from webapp.modeling.models import ModelVersion, TrainingRun

pytestmark = pytest.mark.e2e


def test_a_failed_switch_and_a_failed_reroute_appear_on_the_open_dashboard(
    page, seeded, django_user_model
):
    active = ModelVersion.objects.create(name="run-1", is_active=True, activated_at=timezone.now())
    run = TrainingRun.objects.create(status=TrainingRun.Status.SUCCEEDED)
    candidate = ModelVersion.objects.create(
        name="run-2", training_run=run, activation_pending=True,
        activation_requested_at=timezone.now(),
    )  # fmt: skip
    admin_on_dashboard(page, django_user_model)
    assert "Switching to run-2" in page.get_by_test_id("pending").text_content()

    services.model_version_activation_failed(
        version_id=candidate.pk, error="scoring failed: UserError: no model at /var/<i>run-2</i>"
    )
    notice = page.get_by_test_id("activation-failure")
    notice.wait_for()
    assert "no model at /var/<i>run-2</i>" in notice.text_content()  # as text, not markup
    assert notice.locator("i").count() == 0
    assert page.get_by_test_id("pending").count() == 0
    assert "no model at" in page.get_by_test_id(f"activation-failure-{candidate.pk}").text_content()

    ModelVersion.objects.filter(pk=active.pk).update(reroute_error="not re-routed: boom")
    page.get_by_test_id("reroute-error").wait_for()
    page.wait_for_load_state("load")  # the reload that brought it has ended

    loads: list[str] = []
    page.on("load", lambda _: loads.append(page.url))
    page.wait_for_timeout(4000)  # more than two polls: the page matches the JSON, no reloads
    assert loads == []
