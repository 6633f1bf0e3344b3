"""Two requests at once, made the same every run on PostgreSQL: the test's own transaction
does the first request's work and stays open while a second request runs in a thread, until
that thread waits for a lock or has finished; only then does the first commit. Code that
checks then writes without a lock lets the second request pass the check unseen.

until_reached_or_waiting pauses a request part-way (from a patched step of it), so that two
requests whose locks could cross meet in the same interleaving every run: code that takes
its locks in another order than the other request deadlocks there every time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection, connections, transaction


def _others_waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        # Within a transaction PostgreSQL shows one snapshot of the activity: drop it first.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _someone_waits_for_a_lock() -> bool:
    return _others_waiting_for_a_lock() > 0


def until_waiting(n: int, *, timeout_s: float = 20) -> None:
    """Returns once `n` other requests wait for a lock: a request that holds a lock the
    others want lets them go in the order they queued, the same every run."""
    deadline = time.monotonic() + timeout_s
    while _others_waiting_for_a_lock() < n:
        assert time.monotonic() < deadline, f"fewer than {n} requests came to wait"
        time.sleep(0.01)


def until_reached_or_waiting(reached: threading.Event, *, timeout_s: float = 20) -> None:
    """A pause inside one request: it returns once another request has reached its own
    pause (`reached` set) or waits for a lock, the order in which their locks are taken
    made the same every run. Called from the paused request's thread, inside its
    transaction."""
    deadline = time.monotonic() + timeout_s
    while not reached.is_set() and not _someone_waits_for_a_lock():
        assert time.monotonic() < deadline, "the other request neither came nor waited"
        time.sleep(0.01)


def in_threads(*requests: Callable[[], Any]) -> list[Exception]:
    """Each request in its own thread, all started at once; the errors they raised."""
    errors: list[Exception] = []

    def run(request: Callable[[], Any]) -> None:
        try:
            request()
        except Exception as error:  # noqa: BLE001 - returned to the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(request,)) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a request never ended"
    return errors


def second_while_first_open(
    first: Callable[[], Any], second: Callable[[], Any], *, timeout_s: float = 20
) -> tuple[Any, Any]:
    """(first's result, second's result); second's exception is raised here."""
    assert connection.vendor == "postgresql", "needs pg_stat_activity and row locks"
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = second()
        except Exception as error:  # noqa: BLE001 - raised again in the test's thread
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    with transaction.atomic():
        first_result = first()
        thread.start()
        deadline = time.monotonic() + timeout_s
        while thread.is_alive() and not _someone_waits_for_a_lock():
            assert time.monotonic() < deadline, "the second request neither ended nor waited"
            time.sleep(0.01)
    thread.join(timeout_s)
    assert not thread.is_alive(), "the second request still waits after the first committed"
    if "error" in outcome:
        raise outcome["error"]
    return first_result, outcome["result"]
