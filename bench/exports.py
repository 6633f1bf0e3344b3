"""The labels export's cost per glitch, on SQLite: rows per second and statements per chunk.

    .venv/bin/python bench/exports.py [--subjects 20000] [--votes 5] [--repeat 3]

Makes a throwaway SQLite database (in a temporary folder, removed at the end), migrates it,
and fills it as a site that has run a while: --subjects retired pool glitches with --votes
votes each, every glitch scored by two model versions (one that decided half of them, and
the active one, which decided the rest), and one in ten relabelled by a reviewer. Then it
reads the whole labels export as CSV (webapp.labeling.exports.label_rows and as_csv, as
/api/exports/labels.csv streams it) --repeat times and prints the best CPU time (and its
wall time), rows per CPU second and the statements it ran (they grow with chunks of
exports.CHUNK glitches, never with glitches).

How it could mislead: SQLite in one process, on a warm page cache, with no other load; the
rows are alike (same classes, JSON of the same size), and PostgreSQL (a server-side cursor,
one REPEATABLE READ snapshot) is not measured. Not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def setup(folder: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    os.environ.setdefault("GLITCHLAB_VAR_DIR", folder)
    # DEBUG off, as in production (DEBUG keeps every statement in memory): a throwaway key
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def seed(n_subjects: int, n_votes: int) -> None:
    from django.contrib.auth.models import User
    from django.utils import timezone

    from webapp.labeling.models import Classification, GlitchClass, Subject
    from webapp.modeling.models import ModelVersion, Prediction
    from webapp.review.models import LabelChange

    blip, whistle = GlitchClass.objects.filter(name__in=["Blip", "Whistle"]).order_by("name")
    old = ModelVersion.objects.create(name="run-1", class_names=["Blip", "Whistle"])
    active = ModelVersion.objects.create(
        name="run-2", class_names=["Blip", "Whistle"], is_active=True
    )
    now = timezone.now()
    subjects = Subject.objects.bulk_create(
        [
            Subject(
                external_id=f"H1_bench{i:06d}",
                source="bench",
                ifo="H1",
                gps_time=1126259462.0 + i,
                status=Subject.Status.RETIRED,
                retired_label=blip if i % 2 else whistle,
                retired_at=now,
                posterior={"Blip": 0.93, "Whistle": 0.07},
                views=n_votes,
                n_votes=n_votes,
                consensus_model="run-1" if i % 2 else "run-2",
            )
            for i in range(n_subjects)
        ],
        batch_size=2000,
    )
    voters = User.objects.bulk_create(
        [User(username=f"bench{i:03d}", password="!") for i in range(n_votes)]
    )
    Classification.objects.bulk_create(
        [
            Classification(volunteer=v, subject=s, glitch_class=blip, weight={"Blip": 0.9})
            for s in subjects
            for v in voters
        ],
        batch_size=5000,
    )
    Prediction.objects.bulk_create(
        [
            Prediction(
                model_version=version,
                subject=s,
                probabilities={"Blip": 0.8, "Whistle": 0.2},
                predicted_label="Blip",
                confidence=0.8,
            )
            for s in subjects
            for version in (old, active)
        ],
        batch_size=5000,
    )
    LabelChange.objects.bulk_create(
        [
            LabelChange(
                subject=s,
                field="retired_label",
                before="Blip",
                after="Whistle",
                changed_by=voters[0],
            )
            for s in subjects[::10]
        ],
        batch_size=5000,
    )


def export_once() -> tuple[float, float, int, int]:
    """Seconds of CPU and of wall clock to read the whole CSV, its rows, the statements run
    (SQLite runs in this process: its work is in the CPU seconds, which other load on the
    machine changes less than the wall clock)."""
    from django.db import connection

    from webapp.labeling import exports
    from webapp.labeling.models import Subject

    statements = []

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        statements.append(sql)
        return execute(sql, params, many, context)

    cpu, started = time.process_time(), time.perf_counter()
    with connection.execute_wrapper(count):
        lines = sum(1 for _ in exports.as_csv(exports.label_rows(Subject.objects.order_by("pk"))))
    wall = time.perf_counter() - started
    return time.process_time() - cpu, wall, lines - 1, len(statements)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=20000)
    parser.add_argument("--votes", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        setup(folder)
        seed(args.subjects, args.votes)
        from webapp.labeling import exports

        runs = [export_once() for _ in range(args.repeat)]
        cpu, wall, rows, statements = min(runs)
        print(
            f"labels export, SQLite: {rows} glitches ({args.votes} votes each, 2 models' "
            f"predictions), CHUNK {exports.CHUNK}: best of {args.repeat} {cpu:.2f} s CPU "
            f"({wall:.2f} s wall), {rows / cpu:,.0f} rows per CPU second, {statements} statements"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
