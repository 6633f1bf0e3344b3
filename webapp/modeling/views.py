"""The admin dashboard of the active-learning loop: watch training, steer the registry."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from webapp.accounts.requests import SignedInRequest
from webapp.accounts.roles import ADMIN, has_role
from webapp.modeling import selectors, services
from webapp.modeling.models import ModelVersion, TrainingRun

View = Callable[..., HttpResponseBase]  # a FileResponse too


def admin_required(view: View) -> View:
    """Anonymous visitors go to the login page; logged-in non-admins get 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            # login's next= is followed with a GET: after a form's POST, a 405
            dashboard = reverse("modeling:dashboard")
            after = request.get_full_path() if request.method == "GET" else dashboard
            return redirect_to_login(after)
        if not has_role(request.user, ADMIN):
            return HttpResponse("Only admins may steer the models.", status=403)
        return view(request, *args, **kwargs)

    return wrapped


@require_GET
@admin_required
def dashboard(request: HttpRequest) -> HttpResponse:
    state = selectors.dashboard_state()
    return render(
        request,
        "modeling/dashboard.html",
        {"state": state, "rollback_target": services.model_version_rollback_target()},
    )


@require_GET
@admin_required
def status(request: HttpRequest) -> JsonResponse:
    return JsonResponse(selectors.dashboard_state())


@require_POST
@admin_required
def retrain(request: SignedInRequest) -> HttpResponse:
    try:
        run = services.training_run_request(
            trigger=TrainingRun.Trigger.ADMIN, requested_by=request.user
        )
        if run.status == TrainingRun.Status.FAILED:
            messages.error(request, f"Training run {run.pk} could not start: {run.error}")
        else:
            messages.success(request, f"Training run {run.pk} queued on the gpu queue.")
    except services.RunAlreadyLiveError as exc:
        messages.info(request, str(exc))  # a second click, or another admin first
    return redirect("modeling:dashboard")


@require_POST
@admin_required
def cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    try:
        run = services.training_run_cancel(run_id=run_id)
        if run.status == TrainingRun.Status.CANCELLED:
            messages.success(request, f"Run {run_id} cancelled.")
        else:
            messages.success(request, f"Run {run_id} will stop at its next step.")
    except TrainingRun.DoesNotExist:
        raise Http404("no such training run") from None
    except services.NothingToDoError as exc:
        messages.info(request, str(exc))
    return redirect("modeling:dashboard")


@require_POST
@admin_required
def retry(request: SignedInRequest, run_id: int) -> HttpResponse:
    try:
        run = services.training_run_retry(run_id=run_id, requested_by=request.user)
    except TrainingRun.DoesNotExist:
        raise Http404("no such training run") from None
    except services.RunAlreadyRetriedError as exc:
        messages.info(request, str(exc))  # a second click
    except (services.NothingToDoError, services.RunAlreadyLiveError) as exc:
        messages.error(request, str(exc))
    else:
        if run.status == TrainingRun.Status.FAILED:
            messages.error(request, f"Training run {run_id} could not start again: {run.error}")
        else:
            messages.success(
                request, f"Training run {run_id} queued again: it continues after its last epoch."
            )
    return redirect("modeling:dashboard")


@require_POST
@admin_required
def promote(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(ModelVersion, pk=version_id)
    if version.is_active:
        messages.error(request, f"{version.name} is already the active model.")
    elif services.activation_just_requested(version):
        messages.info(request, f"Already switching to {version.name}: its scoring is queued.")
    else:
        version = services.model_version_request_activation(version_id=version.pk)
        if version.activation_error:
            messages.error(request, f"Not switching to {version.name}: {version.activation_error}")
        else:
            messages.success(
                request,
                f"Switching to {version.name}: open subjects are scored with it first; "
                "the current model serves until then.",
            )
    return redirect("modeling:dashboard")


@require_POST
@admin_required
def rollback(request: HttpRequest) -> HttpResponse:
    target = services.model_version_rollback_target()
    if target is None:
        messages.error(request, "No earlier model to roll back to.")
    elif request.POST.get("version") != str(target.pk):
        # The page named another model (a rollback since then made the one just left the
        # target: a second click or a second tab would have switched straight back).
        messages.error(
            request,
            f"Not rolled back: the model to roll back to is now {target.name}, not the one "
            "your page showed. Look again and confirm.",
        )
    else:
        target = services.model_version_request_activation(version_id=target.pk)
        if target.activation_error:
            messages.error(request, f"Not rolling back to {target.name}: {target.activation_error}")
        else:
            messages.success(request, f"Rolling back to {target.name}.")
    return redirect("modeling:dashboard")


@require_GET
@admin_required
def confusion_png(request: HttpRequest, version_id: int) -> FileResponse:
    version = get_object_or_404(ModelVersion, pk=version_id)
    path = Path(version.model_dir) / "confusion.png" if version.model_dir else None
    if path is None or not path.is_file():
        raise Http404("this model has no confusion matrix picture")
    return FileResponse(path.open("rb"), content_type="image/png")
