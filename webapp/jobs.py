"""The life of a background job's row (training run, label audit, embedding set), written once.

A job row is claimed by compare-and-set before the work starts, beats while it runs, and
ends succeeded, failed or cancelled. An admin's cancel ends a waiting row at once and asks a
running one to stop: the task reads the request between two steps (a batch, an epoch).

A worker that dies (SIGKILL, OOM, a hard time limit) stops beating; the reaper
(tasks.training.reap_lost_runs, on the beat) and the worker_ready handler fail its row, so
the one-live-job constraints never hold a dead job for ever. A redelivered message may take
over a running row whose heartbeat went stale. When a worker is taken as gone is one rule
(worker_gone), which also judges the tasks that work on a claim with no job row of its own
(webapp.modeling.models.ClaimHolder: a version's scoring or switch, a map).

Every time here is the database's (Now()), never the calling process's: the claim and the
beats are written on a GPU host and judged by the reaper on another, and a host whose clock
ran minutes behind had every job it ran reaped as silent.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

RUNNING = "running"  # the same value in every job model's Status
FAILED = "failed"
CANCELLED = "cancelled"
ERROR_LIMIT = 5000  # characters of an error kept


class JobRow(models.Model):
    """Who runs the job and when it last showed it was alive. Subclasses redefine `status`
    with their own choices ("running" and "failed" among them) and default, and bring
    LIVE_STATUSES and `created_at`."""

    status = models.CharField(max_length=16)  # declared here for the lookups below
    worker = models.CharField(  # Celery hostname that claimed it
        max_length=200, blank=True, default="", db_default=""
    )
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # an admin asked it to stop
    cancel_requested = models.BooleanField(default=False, db_default=False)

    class Meta:
        abstract = True


class JobNotLiveError(Exception):
    """The job already ended: there is nothing to cancel."""


def _rows(
    model: type[JobRow], pk: int, statuses: tuple[str, ...], only_if: Q | None
) -> models.QuerySet:
    """The job's row while it is in one of `statuses` and, with `only_if` (the task's hold
    on it), while that holds too."""
    rows = model._default_manager.filter(pk=pk, status__in=statuses)
    return rows if only_if is None else rows.filter(only_if)


Job = TypeVar("Job", bound=JobRow)


def _ago(seconds: float) -> Any:
    """The database's time `seconds` ago, as an expression for a filter."""
    return Now() - timedelta(seconds=seconds)


def _silent(cutoff: Any) -> Q:
    """Rows that have not beaten since `cutoff` (rows that never beat: by age)."""
    return Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)


def _silent_since(cutoff: Any) -> Q:
    """Running rows that have not beaten since `cutoff`."""
    return Q(status=RUNNING) & _silent(cutoff)


def worker_gone(*, worker: str | None = None, silent_for_s: float | None = None) -> tuple[Q, str]:
    """The rows (`worker`, `heartbeat_at`, `created_at`) whose worker is gone, and the reason
    written on what they held. worker: claimed by this Celery hostname (it starts again, so
    nothing it claimed can still be running). silent_for_s: no heartbeat for this long (the
    periodic reaper); with worker, its rows silent since it started (a clean-up retried
    after the worker may have claimed new work)."""
    if worker is None and silent_for_s is None:
        raise ValueError("give worker or silent_for_s")
    gone = Q()
    if silent_for_s is not None:
        gone &= _silent(_ago(silent_for_s))
        reason = f"no heartbeat for {silent_for_s:.0f} s: the worker was lost"
    if worker is not None:
        gone &= Q(worker=worker)
        reason = f"worker {worker} restarted while the job was in progress (worker lost)"
    return gone, reason


def job_claim(
    model: type[Job],
    *,
    pk: int,
    claimable: tuple[str, ...],
    worker: str,
    stale_after_s: float | None = None,
    **fields: Any,
) -> Job | None:
    """claimable -> running for this worker; with stale_after_s, also a running row whose
    heartbeat is older than that (its worker died and the message came back). One UPDATE
    whose WHERE holds the condition: of two deliveries racing, one wins. None: not ours."""
    free = Q(status__in=claimable)
    if stale_after_s is not None:
        # A dead worker's row that an admin asked to stop is not taken over: the reaper ends it.
        free |= _silent_since(_ago(stale_after_s)) & Q(cancel_requested=False)
    claimed = model._default_manager.filter(free, pk=pk).update(
        status=RUNNING,
        worker=worker,
        started_at=Now(),
        heartbeat_at=Now(),
        cancel_requested=False,
        **fields,
    )
    return model._default_manager.get(pk=pk) if claimed == 1 else None


def job_requeue(
    model: type[JobRow], *, pk: int, ended: tuple[str, ...], waiting: str, **fields: Any
) -> bool:
    """An ended row (one of `ended`) waits again (`waiting`: queued, pending), as if newly
    requested: the last attempt's worker, times and cancel request cleared, and the reaper's
    clock for a waiting row (its last sign of life) restarted now. One UPDATE whose WHERE
    holds the condition: of two requests racing, one wins. False: it was not ended (live:
    another request or the worker got there first) or not in `ended`."""
    return (
        model._default_manager.filter(pk=pk, status__in=ended).update(
            status=waiting,
            worker="",
            error="",
            started_at=None,
            finished_at=None,
            heartbeat_at=Now(),
            cancel_requested=False,
            **fields,
        )
        == 1
    )


def job_heartbeat(model: type[JobRow], *, pk: int, only_if: Q | None = None, **fields: Any) -> bool:
    """The job is alive (and, in `fields`, how far it got). Returns whether the task should
    stop at its next step: an admin asked it to, or (with `only_if`, the task's hold on the
    row) the row is no longer this task's: failed meanwhile, or retried by a new task."""
    beat = _rows(model, pk, (RUNNING,), only_if).update(heartbeat_at=Now(), **fields)
    if only_if is not None and not beat:
        return True  # no longer this task's: stop
    return job_cancel_requested(model, pk=pk)


def job_cancel_requested(model: type[JobRow], *, pk: int) -> bool:
    return model._default_manager.filter(pk=pk, cancel_requested=True).exists()


def job_cancel(model: type[JobRow], *, pk: int, waiting: str, by: str = "an admin") -> bool:
    """Cancel a job: a row still `waiting` (queued, pending) ends cancelled at once (True);
    a running one is asked to stop at its next step (False; the task then calls
    job_mark_cancelled). Raises JobNotLiveError if it had already ended, and the model's
    DoesNotExist if there is no such job (the views answer 404)."""
    rows = model._default_manager.filter(pk=pk)
    if rows.filter(status=waiting).update(
        status=CANCELLED, finished_at=Now(), error=f"cancelled by {by} before it started"
    ):
        return True
    if rows.filter(status=RUNNING).update(cancel_requested=True):
        return False
    ended = rows.values_list("status", flat=True).first()
    if ended is None:
        raise model.DoesNotExist(f"no {model._meta.verbose_name} {pk}")
    raise JobNotLiveError(
        f"{str(model._meta.verbose_name).capitalize()} {pk} had already ended ({ended}): "
        "nothing to cancel."
    )


def job_finish(
    model: type[JobRow], *, pk: int, status: str, only_if: Q | None = None, **fields: Any
) -> bool:
    """running (and `only_if`) -> `status`, with `fields`; False if it had ended, or was no
    longer the task's."""
    rows = _rows(model, pk, (RUNNING,), only_if)
    return rows.update(status=status, finished_at=Now(), **fields) == 1


def job_mark_cancelled(
    model: type[JobRow], *, pk: int, by: str = "an admin", only_if: Q | None = None
) -> bool:
    """running (and `only_if`) -> cancelled (the task stopped at a cancel request)."""
    return job_finish(model, pk=pk, status=CANCELLED, only_if=only_if, error=f"cancelled by {by}")


def job_fail(
    model: type[JobRow],
    *,
    pk: int,
    error: str,
    statuses: tuple[str, ...] | None = None,
    only_if: Q | None = None,
) -> bool:
    """A live row (queued or running; or one of `statuses`, and `only_if`) -> failed with
    the reason. False if it had already ended: failing twice, or after success, does
    nothing."""
    live = statuses or tuple(getattr(model, "LIVE_STATUSES", (RUNNING,)))
    rows = _rows(model, pk, live, only_if)
    return rows.update(status=FAILED, error=error[:ERROR_LIMIT], finished_at=Now()) == 1


def jobs_fail_lost(
    model: type[JobRow],
    *,
    worker: str | None = None,
    silent_for_s: float | None = None,
    waiting_for_s: float | None = None,
) -> int:
    """Fail the running rows whose worker is gone (worker_gone: by `worker`, by
    `silent_for_s`, or both), and the waiting ones never started. waiting_for_s (with
    silent_for_s): also rows still queued or pending this long after they were made: their
    message is lost (Redis lost its data, or a worker died holding it unstarted) and nothing
    will start them, while they hold their kind's one live-job slot (no retrain or audit
    could start again).
    """
    failed = 0
    if waiting_for_s is not None and silent_for_s is not None:
        live = getattr(model, "LIVE_STATUSES", (RUNNING,))
        waiting = [status for status in live if status != RUNNING]
        cutoff = _ago(waiting_for_s)
        # Queued since it was made, or since its last sign of life (a retried run was
        # queued again long after it was made); created_at is the subclasses' field.
        never_started = (
            Q(status__in=waiting)
            & Q(created_at__lt=cutoff)
            & (Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=cutoff))
        )
        failed = model._default_manager.filter(never_started).update(
            status=FAILED,
            error=f"not started in {waiting_for_s / 3600:.3g} h: its queued message was lost; "
            "request it again",
            finished_at=Now(),
        )
    gone, reason = worker_gone(worker=worker, silent_for_s=silent_for_s)
    rows = model._default_manager.filter(gone, status=RUNNING)
    # One UPDATE whose WHERE holds the condition: a row that beat meanwhile stays running.
    return failed + rows.update(status=FAILED, error=reason, finished_at=Now())
