"""The production web server: granian serving webapp.wsgi, its settings in one place.

    python -m webapp.serve

The Dockerfile, docker-compose and bench/web_load.py all start the web process this way.
granian is an HTTP server written in Rust: it parses requests and holds the volunteers'
keep-alive connections outside Python, and hands each request to one of a few Python
threads per process. On the vote path that cost about a sixth less CPU per vote than
gunicorn's gthread workers (bench/web_load.py at 200 users, same machine and code; the
runs are in docs/security.md).

Environment (all optional):
- GLITCHLAB_WEB_BIND: host:port to listen on (default 0.0.0.0:8000);
- WEB_CONCURRENCY: processes (default 2 x CPU cores: the processes use the cores);
- GLITCHLAB_WEB_THREADS: Python threads per process (default 2: they cover the waits on
  PostgreSQL; more only contend for the GIL);
- GLITCHLAB_WEB_ACCESS_LOG: "1" logs every request.
A worker process that dies is started again. webapp.wsgi moves the loaded app out of the
garbage collector's sight (gc.freeze) in each process.
"""

from __future__ import annotations

import os
from typing import Any

from granian import Granian
from granian.constants import Interfaces
from granian.log import LogLevels

DEFAULT_BIND = "0.0.0.0:8000"


def options(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """granian's settings from the environment (see the module's docstring)."""
    env = os.environ if environ is None else environ
    host, _, port = env.get("GLITCHLAB_WEB_BIND", DEFAULT_BIND).rpartition(":")
    return {
        "target": "webapp.wsgi:application",
        "interface": Interfaces.WSGI,
        "address": host.strip("[]") or "0.0.0.0",
        "port": int(port),
        "workers": int(env.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1))),
        "blocking_threads": int(env.get("GLITCHLAB_WEB_THREADS", "2")),
        "backlog": 2048,
        "websockets": False,
        "respawn_failed_workers": True,
        "log_level": LogLevels.warning,
        "log_access": env.get("GLITCHLAB_WEB_ACCESS_LOG", "") == "1",
    }


def main() -> None:
    Granian(**options()).serve()


if __name__ == "__main__":
    main()
