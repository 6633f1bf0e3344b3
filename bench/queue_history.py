"""The queue query against a volunteer's history, on PostgreSQL.

    .venv/bin/python bench/queue_history.py [--history 0 1000 10000 20000] [--repeat 200]
                                            [--admin-url postgres://postgres@127.0.0.1:5432/postgres]

A volunteer's next subject skips what they have answered. Most of what a long-time volunteer
answered has retired since (it has left the queue's partial index); a few are still open.
In a throwaway database of 6,000 subjects plus the longest history, for each history
length one volunteer has voted on that many subjects, retired since, and on 30 open ones;
the bench times the queue's SQL (webapp.labeling.selectors._queue_head) against the NOT IN
form it replaced on 2026-11-26, which hashed the volunteer's whole history on every request.
Prints ms per request for both. Not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import web_load  # noqa: E402  (its throwaway-database helpers)

OPEN_SUBJECTS = 6000
OPEN_ANSWERED = 30
NOT_IN = (  # the queue's pool query before 2026-11-26
    "SELECT id, external_id, ifo, gps_time, priority FROM labeling_subject"
    " WHERE status = 'active' AND role = 'pool' AND level <= %s"
    " AND id NOT IN (SELECT subject_id FROM labeling_classification WHERE volunteer_id = %s)"
    " ORDER BY priority DESC, id LIMIT 16"
)


def timed_ms(run, repeat: int) -> float:
    for _ in range(5):
        run()
    started = time.perf_counter()
    for _ in range(repeat):
        run()
    return (time.perf_counter() - started) * 1000 / repeat


def set_history(user_id: int, history: int) -> None:
    """The volunteer has answered the oldest `history` subjects, retired since, and
    OPEN_ANSWERED subjects that are still open; every other subject is open."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM labeling_classification")
        cursor.execute("UPDATE labeling_subject SET status = 'active'")
        cursor.execute(
            "UPDATE labeling_subject SET status = 'retired'"
            " WHERE id IN (SELECT id FROM labeling_subject ORDER BY id LIMIT %s)",
            [history],
        )
        cursor.execute(
            "INSERT INTO labeling_classification (volunteer_id, subject_id, glitch_class_id,"
            " idempotency_key, weight, was_gold, created_at)"
            " SELECT %s, id, (SELECT min(id) FROM labeling_glitchclass), gen_random_uuid(),"
            " '{}', false, now() FROM labeling_subject ORDER BY id LIMIT %s",
            [user_id, history + OPEN_ANSWERED],
        )
        cursor.execute("ANALYZE")


def measure(user_id: int, repeat: int) -> tuple[float, float]:
    """ms per request of the queue's pool query now and in the NOT IN form."""
    from django.contrib.auth.models import User
    from django.db import connection

    from webapp.labeling import selectors

    volunteer = User.objects.get(pk=user_id)
    now = timed_ms(lambda: selectors._queue_head(volunteer, POOL_SQL, [1], []), repeat)

    def before() -> None:
        with connection.cursor() as cursor:
            cursor.execute(NOT_IN, [1, user_id])
            cursor.fetchall()

    return now, timed_ms(before, repeat)


POOL_SQL = "role = 'pool' AND level <= %s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--history", type=int, nargs="+", default=[0, 1000, 10000, 20000])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args(argv)
    name = f"glitchlab_queue_{os.getpid()}"
    url = web_load.database_create(args.admin_url, name)
    try:
        with tempfile.TemporaryDirectory(prefix="glitchlab-queue-") as var_dir:
            os.environ.update(web_load.server_env(url, var_dir))
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
            import django
            from django.core.management import call_command
            from django.db import connections

            django.setup()
            call_command("migrate", verbosity=0)
            subjects = OPEN_SUBJECTS + max(args.history)
            ((user_id, _),) = web_load.seed(1, subjects, gold_share=0.0)
            for history in args.history:
                set_history(user_id, history)
                now, before = measure(user_id, args.repeat)
                print(
                    f"history {history:6d} votes: queue query {now:6.2f} ms"
                    f" (NOT IN form: {before:6.2f} ms)",
                    flush=True,
                )
            connections.close_all()
    finally:
        web_load.database_drop(args.admin_url, name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
