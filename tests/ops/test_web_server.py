"""The production web server (`python -m webapp.serve`, what the Dockerfile and compose run):
its settings from the environment, a real start that serves the app, a worker that is
killed and comes back, and the loaded app frozen out of the garbage collector."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from webapp.serve import options

REPO = Path(__file__).resolve().parents[2]


def test_settings_come_from_the_environment():
    defaults = options({})
    assert (defaults["address"], defaults["port"]) == ("0.0.0.0", 8000)
    assert defaults["workers"] == 2 * (os.cpu_count() or 1) and defaults["blocking_threads"] == 2
    assert defaults["respawn_failed_workers"] is True and defaults["log_access"] is False
    given = options(
        {
            "GLITCHLAB_WEB_BIND": "[::1]:9001",
            "WEB_CONCURRENCY": "3",
            "GLITCHLAB_WEB_THREADS": "4",
            "GLITCHLAB_WEB_ACCESS_LOG": "1",
        }
    )
    assert (given["address"], given["port"], given["workers"]) == ("::1", 9001, 3)
    assert given["blocking_threads"] == 4 and given["log_access"] is True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},  # SQLite in tmp_path
        "DJANGO_SETTINGS_MODULE": "webapp.settings",
        "DEBUG": "false",
        "SECRET_KEY": "test-only-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "GLITCHLAB_VAR_DIR": str(tmp_path),
        **extra,
    }


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _wait_for(url: str, server: subprocess.Popen, seconds: float = 60) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, "the web server exited"
        try:
            return _get(url)[0]
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def _workers(pid: int) -> list[int]:
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]


def test_it_serves_the_app_and_starts_a_killed_worker_again(tmp_path):
    port = _free_port()
    env = _environment(tmp_path, GLITCHLAB_WEB_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1")
    server = subprocess.Popen([sys.executable, "-m", "webapp.serve"], cwd=REPO, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        assert _wait_for(f"{base}/healthz", server) == 200
        status, body = _get(f"{base}/no-such-page/")
        assert status == 404 and b"<html" in body.lower()  # the styled page, DEBUG off
        (worker,) = _workers(server.pid)
        os.kill(worker, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _workers(server.pid) in ([], [worker]):
            time.sleep(0.2)
        assert _workers(server.pid) not in ([], [worker]), "the killed worker was not replaced"
        assert _wait_for(f"{base}/healthz", server) == 200
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            pytest.fail("the web server did not stop on SIGINT")


def test_loading_the_app_freezes_it_out_of_the_garbage_collector(tmp_path):
    frozen = subprocess.run(
        [sys.executable, "-c", "import gc, webapp.wsgi; print(gc.get_freeze_count())"],
        cwd=REPO,
        env=_environment(tmp_path),
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(frozen.stdout.split()[-1]) > 10_000
