"""Load benchmark of the vote path: the production web server + PostgreSQL, simulated volunteers.

    .venv/bin/python bench/web_load.py [--users 50 200] [--duration 20] [--think 0.9]
                                       [--workers N] [--threads N] [--subjects 6000]
                                       [--gold-share 0.1] [--two-requests]
                                       [--admin-url postgres://postgres@127.0.0.1:5432/postgres]

Creates a throwaway PostgreSQL database (dropped at the end), migrates it, creates the
volunteers (API tokens) and subjects (10% gold by default, so the gold mixing, feedback and
confusion-matrix updates are part of the load), starts the production web server (`python
-m webapp.serve`: granian) on a free loopback port with production settings (DEBUG off),
then for each user count runs that many volunteers for
--duration seconds. Each volunteer loops like the labelling page: look at the subject for a
think time (uniform in [0.5, 1.5] x --think seconds), POST its vote (/api/classifications/,
token auth, the assignment that came with the subject, a fresh idempotency key, with_next),
whose answer brings the next subject and its assignment; GET /api/subjects/next/ only to
start (--two-requests: before every vote, as the page did before with_next). All
volunteers see the same queue order, so they pile onto the same subjects: the row lock is
exercised, not avoided.

The default think time, 0.9 s, is the issue's goal read through Little's law: 200 votes/s
from 200 volunteers is one vote per volunteer per second, of which at most 0.1 s (the p95
goal) is the server's, so each volunteer looks for about 0.9 s. A shorter --think asks for
more votes than that (0.75: up to 267 per second from 200 volunteers).

Prints per level: requests, p50 / p95 / max latency of next and vote, votes/s, errors
(non-2xx or transport), and votes acknowledged by the server against votes the database
holds (lost = acknowledged but not stored), and the CPU each vote cost the web server's
workers, this database's PostgreSQL backends and the load generator. --think 0 measures
saturation instead; --floor N adds N clients fetching /healthz back to back (the cost of
any request: Django's middleware and one `SELECT 1`).
Not a test: the numbers depend on the machine (and on whatever else runs on it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHOICES = ["Blip"] * 6 + ["Whistle"] * 3 + ["None_of_the_Above"]  # what volunteers answer


# --- the throwaway database and the server ----------------------------------------------


def _admin_connect(admin_url: str):
    import psycopg

    return psycopg.connect(admin_url, autocommit=True)


def database_create(admin_url: str, name: str) -> str:
    with _admin_connect(admin_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def database_drop(admin_url: str, name: str) -> None:
    with _admin_connect(admin_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str, var_dir: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on the loopback
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "GLITCHLAB_VAR_DIR": var_dir,
        "DB_CONN_MAX_AGE": "600",
    }


def server_start(env: dict[str, str], port: int, workers: int | None, threads: int | None):
    """The production web server (`python -m webapp.serve`: granian) on the loopback; its
    settings are production's but for what is given here."""
    env = {
        **env,
        "GLITCHLAB_WEB_BIND": f"127.0.0.1:{port}",
        **({"WEB_CONCURRENCY": str(workers)} if workers else {}),
        **({"GLITCHLAB_WEB_THREADS": str(threads)} if threads else {}),
    }
    server = subprocess.Popen([sys.executable, "-m", "webapp.serve"], cwd=REPO, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/classes/", timeout=2):
                return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit("the web server exited during start") from None
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("the web server did not answer within 60 s")


# --- data ---------------------------------------------------------------------------------


def seed(n_users: int, n_subjects: int, gold_share: float) -> list[tuple[int, str]]:
    """Volunteers with API tokens and subjects with four image rows each: pool subjects and,
    as in production, a share of gold ones (Blip and Whistle, the level-1 classes)."""
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    from webapp.accounts.roles import VOLUNTEER
    from webapp.labeling.models import GlitchClass, Subject, SubjectImage, VolunteerProfile

    group, _ = Group.objects.get_or_create(name=VOLUNTEER)
    users = User.objects.bulk_create(
        [User(username=f"load{i:04d}", password="!") for i in range(n_users)]
    )
    group.user_set.add(*users)
    VolunteerProfile.objects.bulk_create([VolunteerProfile(user=u) for u in users])
    tokens = Token.objects.bulk_create([Token(user=u, key=secrets.token_hex(20)) for u in users])
    gold_labels = list(GlitchClass.objects.filter(name__in=["Blip", "Whistle"]))
    n_gold = round(n_subjects * gold_share)
    subjects = Subject.objects.bulk_create(
        [
            Subject(
                external_id=f"H1_load{i:06d}",
                source="load",
                ifo="H1",
                role=Subject.Role.GOLD if i < n_gold else Subject.Role.POOL,
                gold_label=gold_labels[i % 2] if i < n_gold else None,
            )
            for i in range(n_subjects)
        ],
        batch_size=2000,
    )
    SubjectImage.objects.bulk_create(
        [
            SubjectImage(subject=s, duration=d, image=f"load/{s.external_id}_{d}.png")
            for s in subjects
            for d in (0.5, 1.0, 2.0, 4.0)
        ],
        batch_size=5000,
    )
    return [(t.user_id, t.key) for t in tokens]


def machine_speed_ms() -> float:
    """How fast this machine runs Python: the best of three of a fixed pure-Python loop (147
    ms on the 2026-12-02 development machine). Development machines differ by up to 3x in
    CPU per vote, so rows measured on different machines compare only through this."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        sum(i * i for i in range(2_000_000))
        best = min(best, time.process_time() - started)
    return best * 1000


def _descendants(pid: int) -> list[str]:
    """The pids of the process's children, theirs, and so on (from any of their threads)."""
    found: list[str] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue  # a thread that ended meanwhile
        for child in children:
            found += [child, *_descendants(int(child))]
    return found


def server_cpu_s(server: subprocess.Popen, admin_url: str, database: str) -> tuple[float, float]:
    """CPU seconds used so far by (the web server's processes, this database's PostgreSQL
    backends): the server's cost, apart from the load generator and the rest of the machine."""
    children = _descendants(server.pid)
    with _admin_connect(admin_url) as conn:
        backends = [
            str(row[0])
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)
            )
        ]

    def seconds(pids: list[str]) -> float:
        ticks = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # a backend that ended meanwhile
            ticks += int(fields[11]) + int(fields[12])  # utime + stime
        return ticks / os.sysconf("SC_CLK_TCK")

    return seconds([str(server.pid), *children]), seconds(backends)


def votes_stored() -> int:
    from django.db import connections

    from webapp.labeling.models import Classification

    count = Classification.objects.count()
    connections.close_all()
    return count


# --- the simulated volunteers ---------------------------------------------------------------


@dataclass
class Tally:
    next_ms: list[float] = field(default_factory=list)
    vote_ms: list[float] = field(default_factory=list)
    votes_sent: int = 0
    votes_acknowledged: int = 0  # 201: stored (200 would be a replay: none are sent)
    empty_queue: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


class Connection:
    """One keep-alive HTTP/1.1 connection, as a browser tab holds (tiny client: the load
    generator shares the two cores with the server, so it must be cheap)."""

    def __init__(self, port: int, token: str | None) -> None:
        self.port = port
        self.auth = f"Authorization: Token {token}\r\n" if token else ""
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        for attempt in (1, 2):  # the server may close an idle keep-alive connection
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            head = (
                f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{self.auth}"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            try:
                self.writer.write(head.encode() + body)
                return await self._response()
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt == 2 or method != "GET":
                    raise
        raise AssertionError("unreachable")

    async def _response(self) -> tuple[int, bytes]:
        assert self.reader is not None
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        length, close = 0, False
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        body = await self.reader.readexactly(length) if length else b""
        if close:
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def timed_get(
    conn: Connection, path: str, tally: Tally, what: str
) -> tuple[int, bytes] | None:
    """GET path with its latency in tally.next_ms; None (an error) if the connection failed."""
    started = time.perf_counter()
    try:
        answer = await conn.request("GET", path)
    except (OSError, asyncio.IncompleteReadError) as exc:
        tally.error(f"{what} {type(exc).__name__}")
        await conn.close()
        return None
    tally.next_ms.append((time.perf_counter() - started) * 1000)
    return answer


async def fetch_next(conn: Connection, tally: Tally) -> tuple[int, str] | None:
    """GET the next subject's id and assignment; None (after a pause when the queue is
    empty) otherwise."""
    answer = await timed_get(conn, "/api/subjects/next/", tally, "next")
    if answer is None:
        return None
    status, body = answer
    if status == 204:
        tally.empty_queue += 1
        await asyncio.sleep(1)
        return None
    if status != 200:
        tally.error(f"next HTTP {status}")
        return None
    subject = json.loads(body)
    return subject["id"], subject["assignment"]


async def volunteer(
    port: int, token: str, until: float, think: float, seed_: int, tally: Tally, with_next: bool
):
    """One volunteer's loop. with_next (as the labelling page does): each vote's answer
    brings the next subject, so GET next is needed only first; else GET next before each vote."""
    rng = random.Random(seed_)
    conn = Connection(port, token)
    await asyncio.sleep(rng.uniform(0, max(think, 0.05)))  # arrive spread out
    shown: tuple[int, str] | None = None  # the subject on screen and its assignment
    try:
        while time.monotonic() < until:
            if shown is None:
                shown = await fetch_next(conn, tally)
                if shown is None:
                    continue
            if think:
                await asyncio.sleep(think * rng.uniform(0.5, 1.5))
            if time.monotonic() >= until:
                break
            vote = {
                "subject": shown[0],
                "assignment": shown[1],
                "glitch_class": rng.choice(CHOICES),
                "idempotency_key": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "seconds_taken": 1.0,
                "with_next": with_next,
            }
            shown = None
            started = time.perf_counter()
            tally.votes_sent += 1
            try:
                status, body = await conn.request(
                    "POST", "/api/classifications/", json.dumps(vote).encode()
                )
            except (OSError, asyncio.IncompleteReadError) as exc:
                tally.error(f"vote {type(exc).__name__}")
                await conn.close()
                continue
            tally.vote_ms.append((time.perf_counter() - started) * 1000)
            if status == 201:
                tally.votes_acknowledged += 1
                if with_next:
                    following = json.loads(body)["next"]
                    shown = (following["id"], following["assignment"]) if following else None
            else:
                tally.error(f"vote HTTP {status}: {body[:80]!r}")
    finally:
        await conn.close()


async def run_level(
    port: int, tokens: list[str], duration: float, think: float, level: int, with_next: bool
) -> Tally:
    tally = Tally()
    until = time.monotonic() + duration
    # A seed per (level, volunteer): idempotency keys must never repeat across levels.
    await asyncio.gather(
        *(
            volunteer(port, token, until, think, level * 100_000 + i, tally, with_next)
            for i, token in enumerate(tokens)
        )
    )
    return tally


async def run_floor(port: int, users: int, duration: float) -> Tally:
    """The cost of any request: `users` clients GET /healthz (the full middleware stack and
    one `SELECT 1`, no DRF, no ORM) back to back. Its latencies go in next_ms."""
    tally = Tally()
    until = time.monotonic() + duration

    async def client() -> None:
        conn = Connection(port, None)
        try:
            while time.monotonic() < until:
                answer = await timed_get(conn, "/healthz", tally, "healthz")
                if answer is not None and answer[0] != 200:
                    tally.error(f"healthz HTTP {answer[0]}")
        finally:
            await conn.close()

    await asyncio.gather(*(client() for _ in range(users)))
    return tally


# --- report ------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


def report(
    users: int, duration: float, tally: Tally, stored: int, cpu_s: tuple[float, float, float]
) -> dict[str, object]:
    both = tally.next_ms + tally.vote_ms
    loops = max(len(tally.vote_ms), 1)
    row = {
        "users": users,
        "requests": len(both),
        "p50_ms": round(percentile(both, 50), 1),
        "p95_ms": round(percentile(both, 95), 1),
        "next_p50_ms": round(percentile(tally.next_ms, 50), 1),
        "next_p95_ms": round(percentile(tally.next_ms, 95), 1),
        "vote_p50_ms": round(percentile(tally.vote_ms, 50), 1),
        "vote_p95_ms": round(percentile(tally.vote_ms, 95), 1),
        "max_ms": round(max(both, default=float("nan")), 1),
        "votes_per_s": round(tally.votes_acknowledged / duration, 1),
        "errors": sum(tally.errors.values()),
        "votes_sent": tally.votes_sent,
        "votes_acknowledged": tally.votes_acknowledged,
        "votes_in_db": stored,
        "lost_votes": tally.votes_acknowledged - stored,
        "empty_queue": tally.empty_queue,
        # CPU per vote (with its GET next in --two-requests): web server (Django), PostgreSQL
        "django_cpu_ms_per_vote": round(cpu_s[0] * 1000 / loops, 1),
        "postgres_cpu_ms_per_vote": round(cpu_s[1] * 1000 / loops, 1),
        "client_cpu_ms_per_vote": round(cpu_s[2] * 1000 / loops, 1),  # this load generator
        "load_average": os.getloadavg()[0],
    }
    print(
        f"users={users:4d}  p50={row['p50_ms']:6.1f} ms  p95={row['p95_ms']:6.1f} ms  "
        f"(next p95 {row['next_p95_ms']} ms, vote p95 {row['vote_p95_ms']} ms, "
        f"max {row['max_ms']} ms)  votes/s={row['votes_per_s']:6.1f}  "
        f"errors={row['errors']}  sent={tally.votes_sent} acknowledged="
        f"{tally.votes_acknowledged} in_db={stored} lost={row['lost_votes']}",
        flush=True,
    )
    print(
        f"    server CPU per vote: web {row['django_cpu_ms_per_vote']} ms + "
        f"PostgreSQL {row['postgres_cpu_ms_per_vote']} ms (load generator "
        f"{row['client_cpu_ms_per_vote']} ms); "
        f"machine load average {row['load_average']:.1f}"
    )
    for what, count in sorted(tally.errors.items()):
        print(f"    error x{count}: {what}")
    return row


def report_floor(
    clients: int, duration: float, tally: Tally, cpu_s: tuple[float, float, float]
) -> dict[str, object]:
    n = max(len(tally.next_ms), 1)
    row = {
        "floor_clients": clients,
        "requests_per_s": round(len(tally.next_ms) / duration, 1),
        "p50_ms": round(percentile(tally.next_ms, 50), 1),
        "p95_ms": round(percentile(tally.next_ms, 95), 1),
        "errors": sum(tally.errors.values()),
        "django_cpu_ms_per_request": round(cpu_s[0] * 1000 / n, 2),
        "postgres_cpu_ms_per_request": round(cpu_s[1] * 1000 / n, 2),
        "client_cpu_ms_per_request": round(cpu_s[2] * 1000 / n, 2),
    }
    print(
        f"floor: {clients} clients GET /healthz back to back: {row['requests_per_s']} req/s, "
        f"p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms, errors {row['errors']}; CPU per "
        f"request: web {row['django_cpu_ms_per_request']} ms + PostgreSQL "
        f"{row['postgres_cpu_ms_per_request']} ms (load generator "
        f"{row['client_cpu_ms_per_request']} ms)",
        flush=True,
    )
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--users", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per level")
    parser.add_argument(
        "--think", type=float, default=0.9, help="mean seconds per look (see above)"
    )
    parser.add_argument("--workers", type=int, help="default: webapp.serve's (2 x cores)")
    parser.add_argument("--threads", type=int, help="default: webapp.serve's (2)")
    parser.add_argument("--subjects", type=int, default=6000)
    parser.add_argument(
        "--gold-share", type=float, default=0.1, help="share of the subjects that are gold"
    )
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first")
    parser.add_argument(
        "--two-requests",
        action="store_true",
        help="GET next before every vote (the page before votes answered with the next subject)",
    )
    parser.add_argument(
        "--floor",
        type=int,
        metavar="CLIENTS",
        help="then GET /healthz back to back from CLIENTS clients: the per-request floor",
    )
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args(argv)

    name = f"glitchlab_load_{os.getpid()}"
    database_url = database_create(args.admin_url, name)
    server = None
    try:
        with tempfile.TemporaryDirectory(prefix="glitchlab-load-") as var_dir:
            env = server_env(database_url, var_dir)
            os.environ.update(env)  # this process seeds and counts through the same settings
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
            import django
            from django.core.management import call_command
            from django.db import connections

            django.setup()
            started = time.perf_counter()
            call_command("migrate", verbosity=0)
            accounts = seed(max(args.users), args.subjects, args.gold_share)
            connections.close_all()
            print(
                f"database {name}: migrated and seeded {len(accounts)} volunteers, "
                f"{args.subjects} subjects ({args.gold_share:.0%} gold) in "
                f"{time.perf_counter() - started:.1f} s",
                flush=True,
            )
            port = free_port()
            server = server_start(env, port, args.workers, args.threads)
            print(
                f"web server (webapp.serve) workers={args.workers or 'default'} "
                f"threads={args.threads or 'default'} on :{port}; "
                f"{os.cpu_count()} CPUs ({machine_speed_ms():.0f} ms for the speed loop); "
                f"think {args.think} s; {args.duration:.0f} s per level; "
                f"{'GET next + vote' if args.two_requests else 'vote with_next'} per loop",
                flush=True,
            )
            keys = [key for _, key in accounts]
            with_next = not args.two_requests
            if args.warmup:  # imports, first connections of every thread: not measured
                asyncio.run(
                    run_level(port, keys[: max(args.users)], args.warmup, args.think, 0, with_next)
                )

            def with_cpu(clients) -> tuple[Tally, tuple[float, float, float]]:
                """Run the clients; their tally and the CPU seconds the run cost the web server,
                this database's PostgreSQL backends and this load generator."""
                server_before = server_cpu_s(server, args.admin_url, name)
                client_before = time.process_time()
                tally = asyncio.run(clients)
                client_s = time.process_time() - client_before
                server_after = server_cpu_s(server, args.admin_url, name)
                web_s = server_after[0] - server_before[0]
                return tally, (web_s, server_after[1] - server_before[1], client_s)

            rows = []
            for level, users in enumerate(args.users, start=1):
                before = votes_stored()
                tally, cpu = with_cpu(
                    run_level(port, keys[:users], args.duration, args.think, level, with_next)
                )
                rows.append(report(users, args.duration, tally, votes_stored() - before, cpu))
            if args.floor:
                tally, cpu = with_cpu(run_floor(port, args.floor, args.duration))
                rows.append(report_floor(args.floor, args.duration, tally, cpu))
            if args.json:
                Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        database_drop(args.admin_url, name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
