"""A real Celery worker process for tests, on its own Redis database, sharing the test
database (a file for SQLite, see tests/conftest.py; or PostgreSQL) and VAR_DIR.

Redis unreachable: the test is skipped with the reason, except under CI (env CI set),
where it fails: CI must not silently skip the worker tests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
# Database 14: far from the default 0 a dev server uses; flushed before and after each test.
TEST_BROKER_URL = os.environ.get("GLITCHLAB_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def require_redis(url: str = TEST_BROKER_URL) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        message = f"Redis at {url} unreachable ({exc}); the real-worker tests need it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def flush(url: str = TEST_BROKER_URL) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def database_url() -> str:
    """The URL of the database this test process uses (the test database), for the worker."""
    from django.db import connection

    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        name = str(s["NAME"])
        if "mode=memory" in name or name == ":memory:":
            pytest.fail("the worker tests need a file SQLite test database (tests/conftest.py)")
        return f"sqlite:///{name}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def wait_for(
    check: Callable[[], Any], *, timeout: float, every: float = 0.3, what: str = "condition"
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Worker:
    """`celery -A tasks worker -Q gpu,default -c 1 --pool solo` as a child process."""

    def __init__(self, env: dict[str, str], hostname: str, log: Path) -> None:
        self.env, self.hostname, self.log = env, hostname, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> Worker:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "tasks",
                    "worker",
                    "-Q",
                    "gpu,default",
                    "-c",
                    "1",
                    "--pool",
                    "solo",
                    "-n",
                    self.hostname,
                    "--without-gossip",
                    "--without-mingle",
                    "-l",
                    "INFO",
                ],  # fmt: skip
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        start_size = self.log.stat().st_size
        wait_for(
            lambda: self.process.poll() is not None or b" ready." in self.read()[start_size:],
            timeout=timeout,
            what=f"worker {self.hostname} to be ready",
        )
        assert self.process.poll() is None, self.read().decode(errors="replace")[-3000:]
        return self

    def read(self) -> bytes:
        return self.log.read_bytes() if self.log.exists() else b""

    def kill(self) -> None:
        """SIGKILL: no cleanup, no ack, no last words; what an OOM killer or a crash does."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


class Stack:
    """The environment the worker (and any manage.py child) runs with, and its workers."""

    def __init__(self, env: dict[str, str], tmp_path: Path) -> None:
        self.env = env
        self.hostname = f"gpu@test-{uuid.uuid4().hex[:6]}"  # the same across restarts
        self.log = tmp_path / "worker.log"
        self.workers: list[Worker] = []

    def start_worker(self) -> Worker:
        worker = Worker(self.env, self.hostname, self.log)
        self.workers.append(worker)
        return worker.start()

    def manage(self, *args: str, timeout: float = 450) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


@contextmanager
def celery_stack(settings: Any, tmp_path: Path) -> Iterator[Stack]:
    """Point this process's Celery app at the test Redis, give VAR_DIR/MEDIA_ROOT a
    throwaway folder both processes share, and yield a Stack whose workers are stopped at
    the end. Training settings (GLITCHLAB_TRAIN_*) are passed on from `settings`."""
    from tasks.celery import app

    require_redis()
    flush()
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = settings.VAR_DIR / "media"
    old = (app.conf.broker_url, app.conf.result_backend, app.conf.task_always_eager)
    app.conf.broker_url = app.conf.result_backend = TEST_BROKER_URL
    app.conf.task_always_eager = False
    app.close()  # drop pooled connections to the configured broker
    app.amqp._producer_pool = None
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "webapp.settings",
        "DATABASE_URL": database_url(),
        "DB_CONN_MAX_AGE": "0",
        "GLITCHLAB_VAR_DIR": str(settings.VAR_DIR),
        "CELERY_BROKER_URL": TEST_BROKER_URL,
        "CELERY_RESULT_BACKEND": TEST_BROKER_URL,
        "GLITCHLAB_HEARTBEAT_EVERY_S": "1",
        "OMP_NUM_THREADS": "2",
        **{
            name: str(getattr(settings, name))
            for name in dir(settings)
            if name.startswith("GLITCHLAB_TRAIN_") and name != "GLITCHLAB_TRAIN_TIME_LIMIT_S"
        },
    }
    stack = Stack(env, tmp_path)
    try:
        yield stack
    finally:
        for worker in stack.workers:
            worker.stop()
        app.conf.broker_url, app.conf.result_backend, app.conf.task_always_eager = old
        app.close()
        app.amqp._producer_pool = None
        flush()
