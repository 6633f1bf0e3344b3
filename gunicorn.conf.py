"""gunicorn settings of the web process, in one place.

gunicorn reads ./gunicorn.conf.py from the directory it starts in: docker-compose, the
Dockerfile and bench/web_load.py all start it from the repository root, so they all serve
with these settings (command-line flags, or GUNICORN_CMD_ARGS, still win).

gthread workers: each thread holds one volunteer's keep-alive connection between votes, so
200 volunteers need no new TCP connection per vote; the process count is what uses the CPU
cores (Python threads share one core per process).
"""

import os

bind = os.environ.get("GLITCHLAB_WEB_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1)))
threads = int(os.environ.get("GLITCHLAB_WEB_THREADS", "8"))
keepalive = 10  # seconds: volunteers look at a glitch for about one between votes
backlog = 2048
