"""Discovery pages: overview and class proposals, the map, the cluster sheet."""

from __future__ import annotations

from csp.constants import SELF, UNSAFE_EVAL, UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from webapp.accounts import login_limit
from webapp.accounts.posting import login_required_post
from webapp.accounts.requests import SignedInRequest
from webapp.discovery import selectors, services, sheet_kept
from webapp.discovery.forms import SheetForm
from webapp.discovery.models import Batch, ClassProposal, ClusterRun, EmbeddingSet
from webapp.jobs import JobNotLiveError
from webapp.modeling.models import ModelVersion


@login_required
def home(request: HttpRequest) -> HttpResponse:
    embedding_set = selectors.embedding_set_current()
    run: ClusterRun | None = selectors.cluster_run_current()
    can_decide = selectors.can_decide_classes(request.user)
    context = {
        "embedding_set": embedding_set,
        "embedding_live": selectors.embedding_set_live(),
        "health": selectors.embeddings_health(current=embedding_set),
        "run": run,
        "can_batch": selectors.can_batch_label(request.user),
        "can_review": selectors.can_review_proposals(request.user),
        "can_decide": can_decide,
        "proposals": selectors.proposals_for_review(with_labels=can_decide),
        "remap_targets": selectors.remap_targets(),
        "min_level": settings.GLITCHLAB_DISCOVERY_MIN_LEVEL,
    }
    return render(request, "discovery/home.html", context)


# Plotly's WebGL scatter (regl) compiles its drawing code with new Function, and Plotly
# adds its own stylesheet as a <style> element: this page alone allows both. Inline
# scripts stay blocked, and nothing on it is built from volunteers' text but class names
# (CLASS_NAME in services.py: letters, digits and _), which Plotly shows as text.
MAP_CSP = {"script-src": [UNSAFE_EVAL], "style-src-elem": [SELF, UNSAFE_INLINE]}


@login_required
@csp_update(MAP_CSP)
def map_page(request: HttpRequest) -> HttpResponse:
    """The map (drawn from /api/discovery/map/); admins are told here too when the active
    model's embeddings are missing (their file gone among the reasons), with Embed again."""
    embedding_set = selectors.embedding_set_current()
    context = {
        "can_batch": selectors.can_batch_label(request.user),
        "can_decide": selectors.can_decide_classes(request.user),
        "embedding_set": embedding_set,
        "health": selectors.embeddings_health(current=embedding_set),
    }
    return render(request, "discovery/map.html", context)


@login_required
def sheet(request: SignedInRequest) -> HttpResponse:
    """The volunteer's open batch (a lasso or the next cluster), as a keyboard grid."""
    if not selectors.can_batch_label(request.user):
        raise PermissionDenied("batch labelling opens at a higher level")
    batch = services.batch_from_cluster(volunteer=request.user)
    sent = sheet_kept.take(request.session, batch)
    if sent is not None:
        messages.info(request, "Your sheet as you sent it before logging in: submit it again.")
    return _sheet_page_with(request, batch, SheetForm(initial=sent))


def _sheet_page_with(
    request: SignedInRequest, batch: Batch | None, form: SheetForm, status: int = 200
) -> HttpResponse:
    subjects = selectors.batch_subjects(batch=batch) if batch else []
    ticked = form.ticked([s["id"] for s in subjects])
    context = {
        "batch": batch,
        "form": form,
        "subjects": [{**s, "ticked": s["id"] in ticked} for s in subjects],
        "n_ticked": len(ticked),
        "chosen": form["choice"].value() or "",
        "choices": selectors.batch_choices(volunteer=request.user),
        # The browser stops typing at the limits the service enforces (the model's).
        "name_max_length": ClassProposal._meta.get_field("name").max_length,
        "description_max_length": ClassProposal._meta.get_field("description").max_length,
    }
    return render(request, "discovery/sheet.html", context, status=status)


def _sheet_page(request: HttpRequest, batch_id: int) -> str:
    return reverse("discovery:sheet")  # the batch stays the volunteer's until submitted


def _sheet_kept(request: HttpRequest, batch_id: int) -> None:
    """The session ended while the sheet was worked on: what was sent waits for the sheet
    after its volunteer's login (sheet_kept)."""
    address = login_limit.client_address(request)
    sheet_kept.keep(request.session, batch_id, request.POST, address=address)


def _home_page(request: HttpRequest, **_: object) -> str:
    return reverse("discovery:home")


@login_required_post(_sheet_page, keep=_sheet_kept)
def sheet_submit(request: SignedInRequest, batch_id: int) -> HttpResponse:
    """One label for the ticked glitches; refused, the sheet again as it was sent, with the
    reason beside its field (a fresh sheet had every glitch ticked again)."""
    form = SheetForm(request.POST)
    if form.is_valid():
        try:
            batch = services.batch_submit(
                volunteer=request.user,
                batch_id=batch_id,
                selected_ids=form.cleaned_data["selected"],
                label=form.label(),
            )
        except ValidationError as error:
            form.refused(error)
        else:
            messages.success(
                request,
                f"{batch.n_voted} glitch{'es' if batch.n_voted != 1 else ''} labelled "
                f"{batch.class_name.replace('_', ' ')}"
                + (f" ({batch.n_skipped} you had already answered)" if batch.n_skipped else ""),
            )
            return redirect("discovery:sheet")
    reasons = "; ".join(str(reason) for reason in form.non_field_errors())
    open_batch = selectors.batch_open_for(volunteer=request.user)
    if open_batch is None or open_batch.pk != batch_id:
        # not the sheet in hand (replaced by a lasso in another tab, or gone): the ticks
        # were for another sheet
        messages.error(request, f"Not saved: {reasons or 'that sheet is no longer open'}.")
        return redirect("discovery:sheet")
    messages.error(request, f"Not saved: {reasons or 'what to change is marked on the sheet'}.")
    return _sheet_page_with(request, open_batch, form)


@login_required_post(_home_page)
def embedding_cancel(request: HttpRequest, set_id: int) -> HttpResponse:
    """Admins: a pending embedding job ends at once, a running one before its next batch."""
    if not selectors.can_decide_classes(request.user):
        raise PermissionDenied("only admins may cancel a job")
    try:
        embedding_set = services.embedding_set_cancel(set_id=set_id)
    except EmbeddingSet.DoesNotExist:
        raise Http404("no such embedding job") from None
    except JobNotLiveError as error:
        messages.info(request, str(error))
    else:
        done = embedding_set.status == EmbeddingSet.Status.CANCELLED
        messages.success(
            request,
            f"Embedding job {set_id} " + ("cancelled." if done else "will stop at its next batch."),
        )
    return redirect("discovery:home")


@login_required_post(_home_page)
def embed_again(request: HttpRequest, version_id: int) -> HttpResponse:
    """Admins: the active model's embeddings, which failed, were cancelled or were never
    made, queued again."""
    if not selectors.can_decide_classes(request.user):
        raise PermissionDenied("only admins may queue a job")
    try:
        embedding_set = services.embedding_set_request(version_id=version_id)
    except ModelVersion.DoesNotExist:
        raise Http404("no such model") from None
    except services.EmbeddingJobLiveError as live:
        # a second click is nothing to do; another model's job refuses it
        same = live.job.model_version_id == version_id
        (messages.info if same else messages.error)(request, str(live))
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
    else:
        name = embedding_set.model_version.name
        if embedding_set.status == EmbeddingSet.Status.FAILED:
            messages.error(
                request, f"The embeddings of {name} could not be queued: {embedding_set.error}"
            )
        else:
            messages.success(
                request,
                f"Embedding job {embedding_set.pk} ({name}) queued on the gpu queue; its map "
                "and clusters follow.",
            )
    return redirect("discovery:home")


@login_required_post(_home_page)
def map_again(request: HttpRequest, set_id: int) -> HttpResponse:
    """Admins: the map and clusters of ready embeddings queued again."""
    if not selectors.can_decide_classes(request.user):
        raise PermissionDenied("only admins may queue a job")
    try:
        embedding_set = services.embedding_set_map_request(set_id=set_id)
    except EmbeddingSet.DoesNotExist:
        raise Http404("no such embeddings") from None
    except services.MapAlreadyQueuedError as queued:
        messages.info(request, str(queued))
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
    else:
        name = embedding_set.model_version.name
        # refused by the broker (or, run at once, it failed): the row says why; ended
        # without an error, it was made
        if embedding_set.map_queued_at is None and embedding_set.error:
            messages.error(
                request, f"The map and clusters of {name} were not made: {embedding_set.error}"
            )
        else:
            messages.success(request, f"The map and clusters of {name} queued.")
    return redirect("discovery:home")


ACTIONS = {
    "provisional": lambda actor, pk, post: services.class_proposal_make_provisional(
        actor=actor, proposal_id=pk
    ),
    "accept": lambda actor, pk, post: services.class_proposal_accept(actor=actor, proposal_id=pk),
    "reject": lambda actor, pk, post: services.class_proposal_reject(
        actor=actor, proposal_id=pk, note=post.get("note", "")
    ),
    "deprecate": lambda actor, pk, post: services.class_proposal_deprecate(
        actor=actor, proposal_id=pk, remap_to=post.get("remap_to", "")
    ),
}


@login_required_post(_home_page)
def proposal_action(request: HttpRequest, proposal_id: int, action: str) -> HttpResponse:
    """Reviewers open proposals for votes or reject them; admins accept and deprecate."""
    if action not in ACTIONS:
        raise PermissionDenied("unknown action")
    try:
        proposal: ClassProposal = ACTIONS[action](request.user, proposal_id, request.POST)
    except services.ProposalUnchangedError as unchanged:
        messages.info(request, "; ".join(unchanged.messages))
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
    else:
        messages.success(request, f"{proposal.name} is now {proposal.status}")
    return redirect("discovery:home")
