"""Talk's front page (/talk/) logged out, on SQLite: the latest comments, a deep page and a
search, with many comments.

    .venv/bin/python bench/talk_front_page.py [--comments 50000] [--repeat 5]

Makes a throwaway SQLite database (in a temporary folder, removed at the end), migrates it,
and fills it with --comments comments by 200 accounts on 2,000 glitches, four in five of
them out of the queue (their threads open to all), one comment in a hundred saying
"scattered light". Then it GETs, as a visitor logged out (Django's test client, the whole
middleware stack), `/talk/`, `/talk/?page=2`, `/talk/?page=50`, `/talk/?page=9999` and
`/talk/?q=scattered`, and prints the best of --repeat in ms and the statements each ran.

How it could mislead: SQLite in one process, on a warm page cache, with no other load; the
comments are alike and short; PostgreSQL (a real COUNT and OFFSET over a heap, UPPER() LIKE
for a search) is not measured; the rate limit of searches is off here (it would answer
429 before the fifth repeat of a minute). Not a test: the numbers depend on the machine.
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

URLS = ["/talk/", "/talk/?page=2", "/talk/?page=50", "/talk/?page=9999", "/talk/?q=scattered"]


def setup(folder: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    os.environ.setdefault("GLITCHLAB_VAR_DIR", folder)
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))  # DEBUG off, as in production
    os.environ["GLITCHLAB_TALK_SEARCHES_PER_MINUTE"] = "1000000"  # measure the page, not 429
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def seed(n_comments: int) -> None:
    from datetime import timedelta

    from django.contrib.auth.models import User
    from django.utils import timezone

    from webapp.labeling.models import Subject
    from webapp.talk.models import Comment

    statuses = [Subject.Status.RETIRED, Subject.Status.CLOSED, Subject.Status.DISCOVERY]
    subjects = Subject.objects.bulk_create(
        [
            Subject(
                external_id=f"H1_talk{i:06d}",
                source="bench",
                status=Subject.Status.ACTIVE if i % 5 == 0 else statuses[i % 3],
            )
            for i in range(2000)
        ]
    )
    authors = User.objects.bulk_create(
        [User(username=f"talker{i:03d}", password="!") for i in range(200)]
    )
    start = timezone.now() - timedelta(days=365)
    made = Comment.objects.bulk_create(
        [
            Comment(
                subject=subjects[i % len(subjects)],
                author=authors[i % len(authors)],
                text="scattered light again #scattered" if i % 100 == 7 else f"a #blip {i}",
            )
            for i in range(n_comments)
        ],
        batch_size=5000,
    )
    # created_at is auto_now_add: spread the comments over the year, one a few minutes apart
    step = timedelta(days=365) / max(1, n_comments)
    for first in range(0, len(made), 5000):
        batch = made[first : first + 5000]
        for k, comment in enumerate(batch, start=first):
            comment.created_at = start + k * step
        Comment.objects.bulk_update(batch, ["created_at"], batch_size=5000)


def measure(repeat: int) -> None:
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    for url in URLS:
        best = float("inf")
        best_timed: list[tuple[float, str]] = []
        for _ in range(repeat):
            timed: list[tuple[float, str]] = []

            def timer(execute, sql, params, many, context, timed=timed):  # type: ignore[no-untyped-def]
                begin = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    timed.append((time.perf_counter() - begin, sql))

            with connection.execute_wrapper(timer):
                begin = time.perf_counter()
                response = client.get(url, secure=True)
                took = time.perf_counter() - begin
            assert response.status_code == 200, (url, response.status_code)
            if took < best:
                best, best_timed = took, timed
        slowest = max(best_timed)
        print(
            f"{url:<22} {best * 1000:8.1f} ms  {len(best_timed)} statements, the slowest "
            f"{slowest[0] * 1000:.1f} ms: {slowest[1][:60]}..."
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        setup(folder)
        seed(args.comments)
        print(f"{args.comments:,} comments, logged out, best of {args.repeat}:")
        measure(args.repeat)


if __name__ == "__main__":
    main()
