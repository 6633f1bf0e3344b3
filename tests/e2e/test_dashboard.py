"""An admin retrains from the dashboard in a real browser, with a real Celery worker on
Redis: sees the progress bar move, and the new model is promoted with its predictions."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tasks"))  # shared helpers

from celery_stack import celery_stack  # noqa: E402
from glitch_data import apply_tiny_training, make_dataset  # noqa: E402

from webapp.labeling.models import Subject  # noqa: E402
from webapp.modeling.models import ModelVersion, Prediction, TrainingRun  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.celery_worker]


def log_in(page, username: str, password: str) -> None:
    page.goto("/accounts/login/?next=/modeling/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/modeling/")


def watch_until_active(page, name: str, timeout: float) -> list[int]:
    """Progress values the bar showed until the dashboard names `name` the active model.
    The page reloads itself when a run or the active model changes, so read defensively."""
    seen: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            bar = page.query_selector("[data-testid=progress]")
            if bar is not None:
                seen.append(int(bar.get_attribute("aria-valuenow") or 0))
            active = page.query_selector("[data-testid=active-model]")
            if active is not None and name in (active.text_content() or ""):
                return seen
        except Exception:  # the page navigated between two calls
            pass
        time.sleep(0.25)
    raise AssertionError(f"{name} never became active; progress seen: {seen}")


def test_admin_retrains_from_the_dashboard_and_the_new_model_goes_live(
    page, seeded, settings, tmp_path, django_user_model
):
    # A short fine-tune (3 epochs at 32 px) so that the bar has time to move.
    apply_tiny_training(settings, head_only=False, epochs=3)
    with celery_stack(settings, tmp_path) as stack:
        data = make_dataset()
        django_user_model.objects.create_superuser("boss", "boss@example.org", "pw-boss")
        stack.start_worker()
        log_in(page, "boss", "pw-boss")
        assert "alive" in page.get_by_test_id("gpu-worker").text_content()
        assert "No active model" in page.get_by_test_id("active-model").text_content()

        page.get_by_test_id("retrain").click()
        assert "queued" in page.locator(".messages").text_content()
        # The model is named after its run; ids go on from earlier tests' rows.
        seen = watch_until_active(page, f"run-{TrainingRun.objects.get().pk}", timeout=400)

        assert any(0 < value < 100 for value in seen), f"no progress shown: {seen}"
        run = TrainingRun.objects.get()
        assert run.status == TrainingRun.Status.SUCCEEDED and run.trigger == "admin"
        version = ModelVersion.objects.get(is_active=True)
        assert version.training_run == run
        stored = set(
            Prediction.objects.filter(model_version=version).values_list("subject_id", flat=True)
        )
        gold = set(Subject.objects.filter(role=Subject.Role.GOLD).values_list("pk", flat=True))
        assert gold and stored == {s.pk for s in data["open"]} | gold  # open pool and gold
        page.reload()
        assert page.get_by_test_id("confusion").is_visible()
        assert "succeeded" in page.get_by_test_id("history").text_content()
