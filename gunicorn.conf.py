"""gunicorn settings of the web process, in one place.

gunicorn reads ./gunicorn.conf.py from the directory it starts in: docker-compose, the
Dockerfile and bench/web_load.py all start it from the repository root, so they all serve
with these settings (command-line flags, or GUNICORN_CMD_ARGS, still win).

gthread workers keep volunteers' keep-alive connections open between votes (idle ones wait
in the worker's poller, not in a thread), so 200 volunteers need no new TCP connection per
vote. The process count is what uses the CPU cores; two threads per process cover the
waits on PostgreSQL, and more only contend for the GIL (bench/web_load.py at 200 users on
2 cores, one sitting: 4 x 2 gave 182-200 votes/s, 4 x 1 188, 4 x 4 158-181, 3 x 2 160,
2 x 8 130).
"""

import gc
import os

bind = os.environ.get("GLITCHLAB_WEB_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1)))
threads = int(os.environ.get("GLITCHLAB_WEB_THREADS", "2"))
keepalive = 10  # seconds: volunteers look at a glitch for about one between votes
backlog = 2048


def post_worker_init(worker) -> None:
    """Move the loaded app's objects (Django, DRF, the models: about 120,000) out of the
    garbage collector's sight. Otherwise every full collection walks them all while the
    worker's threads wait: 63 ms per full collection on the 2-core development machine,
    10 ms after gc.freeze() (measured in-process over 3,000 votes)."""
    gc.collect()
    gc.freeze()
