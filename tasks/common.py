"""Helpers shared by the tasks: database rows -> ml.data.Samples, a heartbeat
thread, the cancel check between two steps of a job, and the failure handler that fails a
job's row when its worker process is lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from celery import Task
from celery.exceptions import TimeLimitExceeded
from celery.signals import task_failure
from celery.utils.log import get_task_logger
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection

from ml.data import Sample, ifo_of, sample_of, undated_sample
from webapp.modeling.selectors import SubjectFiles

logger = get_task_logger(__name__)


def to_samples(files: Sequence[SubjectFiles]) -> list[Sample]:
    """One ml Sample per subject (id = the Subject primary key as text), as ml.data reads a
    folder: a missing duration is filled with the nearest view present and flagged; a
    subject whose every image stands in (one file of unknown duration) is a glitch of one
    view whose duration is not known."""
    samples = []
    for f in files:
        glitch_id, ifo = str(f.subject_id), f.ifo or ifo_of(str(f.subject_id))
        views = {d: p for d, p in f.paths.items() if d not in f.substituted}
        if views:
            samples.append(sample_of(glitch_id, f.label, views, ifo=ifo, source=f.source))
        else:
            stand_in = f.paths[min(f.paths)]
            samples.append(undated_sample(glitch_id, f.label, stand_in, ifo=ifo, source=f.source))
    return samples


def device_description(device_name: str) -> str:
    """'cuda (NVIDIA H200)', 'cpu (2 threads)': what the dashboard shows for a run."""
    import torch

    from ml.model import resolve_device

    device = resolve_device(device_name)
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"{device.type} ({torch.get_num_threads()} threads)"


def fresh_connection() -> None:
    """Close this thread's database connection, so that the next query (the job's failure,
    written down) opens a new one. The connection the job used may have died with a
    database restart: the job's own write then failed, and a connection idle since (the
    worker's main process, reporting a lost child) shows it only when used. Django itself
    reconnects only between two requests or two tasks. Inside a transaction (a test's)
    the connection stays."""
    if not connection.in_atomic_block:
        connection.close()


@contextmanager
def unless_the_database_is_down(what: str) -> Iterator[None]:
    """Run the block, a write a job can do without (its progress, a log line): if the
    database does not answer (its connection broke or was refused), log it and go on with
    a fresh connection for the next write rather than fail hours of work; the reaper fails
    the job only if the outage outlasts the heartbeat timeout (the heartbeat thread's
    writes fail meanwhile too). Any other database error (a missing column, bad data) is a
    bug and fails the job at once."""
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        close_old_connections()  # a connection the error broke is closed; the next opens anew
        logger.warning("%s not written (the database did not answer): %s", what, exc)


class Heartbeat:
    """Calls `beat()` every `every_s` seconds in a background thread while the block runs.

    The reaper declares a run lost when its heartbeat stops, so the beat must not depend
    on the training loop reaching a callback (decoding or evaluation can take minutes).
    A SIGKILLed worker stops beating with everything else: exactly what the reaper needs.
    """

    def __init__(self, beat: Callable[[], object], every_s: float) -> None:
        self._beat = beat
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self._every_s):
                try:
                    self._beat()
                except Exception:  # a missed beat is harmless; the next one retries
                    close_old_connections()
        finally:
            connection.close()  # this thread's own database connection

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def report_progress(task: Task, meta: dict[str, Any]) -> None:
    """The task's PROGRESS state in the result backend, for whoever polls it. Best effort:
    the job's row holds its progress too, and a job that needs only the database must not
    fail because Redis restarted while it ran."""
    if not task.request.id or task.request.is_eager:
        return
    try:
        task.update_state(state="PROGRESS", meta=meta)
    except Exception as exc:  # redis or kombu connection errors, the backend's RuntimeError
        logger.warning("%s: progress not sent to the result backend: %s", task.name, exc)


class JobCancelled(Exception):
    """An admin asked the job to stop; raised between two steps, caught by the task."""


class CancelCheck:
    """Raises JobCancelled once an admin has asked the job to stop (webapp.jobs.job_cancel).

    `step()` between two steps of a job (a batch) always asks the database; calling the
    object itself (e.g. as a per-image progress callback) asks at most once every `every_s`
    seconds, so it costs nothing per image and still stops a long step within a second.
    """

    def __init__(self, requested: Callable[[], bool], every_s: float = 1.0) -> None:
        self._requested = requested
        self._every_s = every_s
        self._asked_at = float("-inf")

    def __call__(self, *_: object) -> None:
        if time.monotonic() - self._asked_at >= self._every_s:
            self.step()

    def step(self) -> None:
        self._asked_at = time.monotonic()
        if self._requested():
            raise JobCancelled


def scoring_wait_s() -> int:
    """How long a scoring job may take before it is taken as lost: it may wait behind a
    training on the one GPU worker, so the training's limit, its own, and an hour (9 h).
    A promote's pending scoring expires after it; the beat queues its scoring again."""
    return settings.GLITCHLAB_TRAIN_TIME_LIMIT_S + settings.GLITCHLAB_SCORE_TIME_LIMIT_S + 3600


SOFT_LIMIT_EARLIER_S = 60  # how long before the hard time limit the soft one fires


def time_limits(hard_s: int) -> dict[str, int | None]:
    """A job's Celery time limits: `time_limit` (the pool kills the child; the handler below
    fails the row) and, for limits over two minutes, `soft_time_limit` a minute earlier (the
    task fails its row itself). Shorter limits get no soft one: the prefork pool arms the hard
    limit's timer only once the soft limit has fired (celery issue 9125), so a soft limit at or
    past the hard one would put off the kill, and one of 0 s or less would fire at once."""
    soft = hard_s - SOFT_LIMIT_EARLIER_S if hard_s > 2 * SOFT_LIMIT_EARLIER_S else None
    return {"soft_time_limit": soft, "time_limit": hard_s}


def fail_row_when_task_fails(
    task_name: str, fail: Callable[[Any, str, str | None], object]
) -> None:
    """A prefork child killed mid-job (WorkerLostError, OOM, a hard time limit) never
    reaches the task's own except block; the parent reports the failure through
    task_failure, and `fail(first task argument, reason, task id)` fails the job's row (a
    no-op if the row already ended). Matched by name: a sender bound to the task proxy never fires.
    (Time limits need the prefork pool: the solo pool cannot interrupt its own task.)"""

    def handler(
        sender: Any = None,
        task_id: str | None = None,
        args: Any = None,
        exception: BaseException | None = None,
        **_: Any,
    ) -> None:
        if getattr(sender, "name", None) != task_name or not args:
            return
        fresh_connection()
        if isinstance(exception, TimeLimitExceeded):  # its str() is "TimeLimitExceeded(N,)"
            limit = exception.args[0] if exception.args else "?"
            fail(
                args[0],
                f"stopped at the hard time limit ({limit} s): the worker killed it",
                task_id,
            )
        else:
            fail(args[0], f"worker lost: {type(exception).__name__}: {exception}", task_id)

    task_failure.connect(handler, weak=False)
