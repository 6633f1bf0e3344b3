"""Queueing a job once the transaction that made it necessary commits, and what happens when
the broker does not take it: the caller's `on_refused(reason)` fails the job's row at once.

With Redis down, Celery's defaults retried the publish and the result backend for 19 s, then
raised into the web request (a 500) and left the row queued, so the one-live-job constraint
refused every later request. webapp/settings.py makes the broker give up within about a
second; this turns its answer into a failed row with a message the page can show.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

BROKER_DOWN = "the task broker (Redis) did not answer"


def refusal_reason(exc: BaseException) -> str:
    """'the task broker (Redis) did not answer: Error 111 connecting to ...' on one line."""
    detail = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, OperationalError | ConnectionError | OSError | RuntimeError):
        # RuntimeError: the Redis result backend gave up reconnecting before the publish.
        return f"{BROKER_DOWN}: {detail}"
    return f"the job could not be queued: {type(exc).__name__}: {detail}"


def enqueue_on_commit(task: Task, *args: Any, on_refused: Callable[[str], object]) -> None:
    """task.delay(*args) after the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: _send(task, args, on_refused))


def _send(task: Task, args: tuple[Any, ...], on_refused: Callable[[str], object]) -> None:
    if task.app.conf.task_always_eager:  # no broker: the task runs here, its errors are its own
        task.delay(*args)
        return
    try:
        task.delay(*args)
    except Exception as exc:  # the job is not queued, whatever the reason: say so on its row
        reason = refusal_reason(exc)
        logger.warning("%s(%s) not queued: %s", task.name, args, reason)
        on_refused(reason)
