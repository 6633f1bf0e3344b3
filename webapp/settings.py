"""Django settings. The only module that reads the environment (typed helpers below)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from ml.train_config import TrainConfig

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"environment variable {name} is required")
    return value


def env_bool(name: str, default: bool) -> bool:
    return parse_bool(os.environ.get(name, str(default)))


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, str(default)))


_T = TypeVar("_T")


def env_optional(name: str, parse: Callable[[str], _T]) -> _T | None:
    """The variable parsed, or None when it is unset or empty (the caller's own default
    applies: e.g. ml.train.TrainConfig's, which this file must not repeat)."""
    value = os.environ.get(name, "").strip()
    return parse(value) if value else None


def parse_bool(text: str) -> bool:
    return text.strip().lower() in {"1", "true", "yes", "on"}


# Debug mode only when asked for (DEBUG=true: `make demo` and the tests do): it shows
# tracebacks and settings to anyone who reaches an error page.
DEBUG = env_bool("DEBUG", False)
# Keys printed in this repository sign nothing outside debug: anyone could forge sessions
# and CSRF tokens with them. The first is the debug default; the second, .env.example's.
PUBLIC_SECRET_KEYS = ("insecure-dev-key-only-for-debug", "change-me-to-50-random-characters")
SECRET_KEY = env_str("SECRET_KEY", PUBLIC_SECRET_KEYS[0] if DEBUG else "")
if not DEBUG and SECRET_KEY in ("", *PUBLIC_SECRET_KEYS):
    raise ImproperlyConfigured(
        "SECRET_KEY is required when DEBUG is off, and must not be a key printed in this "
        "repository: set SECRET_KEY to a long random secret (python -c 'import secrets; "
        "print(secrets.token_urlsafe(50))'), or DEBUG=true on a development machine."
    )
# Rotating SECRET_KEY: the old key(s), comma-separated, still verify what they signed
# (sessions, password-reset links, the vote's assignment tokens) while SECRET_KEY signs
# anew; remove them once those have expired (docs/security.md, "Labels you can trust").
SECRET_KEY_FALLBACKS = [
    key.strip() for key in env_str("SECRET_KEY_FALLBACKS", "").split(",") if key.strip()
]
if not DEBUG and set(SECRET_KEY_FALLBACKS) & set(PUBLIC_SECRET_KEYS):
    # A fallback verifies signatures as the key does: a public one would let anyone forge them.
    raise ImproperlyConfigured(
        "SECRET_KEY_FALLBACKS holds a key printed in this repository: remove it."
    )
ALLOWED_HOSTS = env_str("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")

# Runtime data (SQLite file, media, models, demo data) lives under one folder.
VAR_DIR = Path(env_str("GLITCHLAB_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # the default SQLite file lives here

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from this site (/api/docs/)
    "csp",
    "axes",  # login limits (webapp/accounts/login_limit.py)
    "webapp.accounts",
    "webapp.labeling",
    "webapp.modeling",
    "webapp.review",
    "webapp.discovery",
    "webapp.talk",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "webapp.nul_guard.RefuseNulMiddleware",  # PostgreSQL text cannot hold NUL: a 400, not 500
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "webapp.no_store.NoStoreForSignedInMiddleware",  # Back shows no stale page or answer
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a login refused by the limit into the 429 page (the admin login's too).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "webapp.urls"
WSGI_APPLICATION = "webapp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "webapp.accounts.context_processors.roles",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'glitchlab.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        # A kept connection the server ended (a PostgreSQL restart, a failover, an idle cut)
        # is found dead before a request uses it, and replaced: without the check, each web
        # thread's next request failed on it (a 500, a vote lost, /healthz 503 while the
        # database was up). One cheap check per request, on connections kept from an earlier one.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Server-side parameters and prepared statements: PostgreSQL parses and plans the vote
    # path's ten statements once per connection instead of on every vote (bench/web_load.py:
    # -30% PostgreSQL CPU per vote). psycopg prepares a statement on its 5th use.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite (the demo and single-host default) locks the whole file for a write. A vote's
    # transaction reads before it writes: begun DEFERRED, two of them could each hold a read
    # lock and wait for the other's, and SQLite answers one at once with "database is locked"
    # (a 500), whatever the timeout. BEGIN IMMEDIATE takes the write lock first, so votes
    # queue for it (up to GLITCHLAB_SQLITE_TIMEOUT_S); WAL lets pages read while a vote
    # writes. tests/webapp/test_sqlite_concurrency.py votes from 20 threads at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        transaction_mode="IMMEDIATE",
        timeout=env_float("GLITCHLAB_SQLITE_TIMEOUT_S", 20.0),
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Filled by collectstatic, served by whitenoise. The image's are out of VAR_DIR, under no
# volume (Dockerfile): a volume over them kept serving the first release's JS and CSS.
STATIC_ROOT = Path(env_str("GLITCHLAB_STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")

# Uploaded glitch images can be large PNGs; the request body limit stays Django's default.
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "labeling:label"
LOGOUT_REDIRECT_URL = "labeling:home"

# --- Security (production = not DEBUG) ---
# Outside debug the site is assumed to be served over HTTPS (directly or behind a proxy
# that sets X-Forwarded-Proto); each switch can be turned off from the environment, e.g.
# SECURE_SSL_REDIRECT=false when the proxy already redirects.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # HSTS is sticky in browsers: start with a short SECURE_HSTS_SECONDS on a new domain.
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    # "preload" only allows submitting the domain to browsers' list; it submits nothing.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    # Only behind a proxy that overwrites X-Forwarded-Proto; .env.example sets it, for the TLS
    # proxy docs/deploy.md asks for (without it every page redirected to itself there).
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # The health check of the container probes plain HTTP on the loopback.
    SECURE_REDIRECT_EXEMPT = [r"^healthz/?$"]
CSRF_TRUSTED_ORIGINS = [o for o in env_str("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
# Content-Security-Policy (django-csp), in debug too: scripts, styles, images and requests
# come from this site only, and no inline script, event handler or style attribute runs, so
# markup that reaches a page through data (a class description, a proposal) cannot execute.
# Pages build their DOM from text (tests/webapp/security/test_security_markup_sinks.py).
# The map page alone relaxes it, for Plotly: 'unsafe-eval' (its WebGL scatter compiles code
# with new Function) and inline <style> elements (webapp/discovery/views.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # data: the empty favicon of base.html
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Per-process memory by default; GLITCHLAB_CACHE_URL=redis://... is one cache for every
# web process and host (production: .env.example).
_CACHE_URL = env_str("GLITCHLAB_CACHE_URL", "locmem://")
_SHARED_CACHE = _CACHE_URL.startswith(("redis://", "rediss://"))
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _CACHE_URL}
        if _SHARED_CACHE
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Logins (django-axes; webapp/accounts/login_limit.py) ---
# GLITCHLAB_LOGIN_MAX_FAILURES wrong passwords for one username from one client address
# lock that pair (not the username: a stranger elsewhere cannot lock a volunteer out) until
# GLITCHLAB_LOGIN_WINDOW_S have passed without another failed try; the login page, the
# admin login and POST /api/token/ then answer 429. A successful login clears the pair.
GLITCHLAB_LOGIN_MAX_FAILURES = env_int("GLITCHLAB_LOGIN_MAX_FAILURES", 10)
# New accounts from one client address in an hour, at most (throwaway accounts by the
# dozen flood Talk past its per-account limits). Raise it for a classroom or an event
# behind one address. An IPv6 client counts by its /64 here and in the login limit
# (login_limit.client_address).
GLITCHLAB_SIGNUPS_PER_HOUR = env_int("GLITCHLAB_SIGNUPS_PER_HOUR", 20)
GLITCHLAB_LOGIN_WINDOW_S = env_int("GLITCHLAB_LOGIN_WINDOW_S", 300)
# The client address is REMOTE_ADDR, unless that is one of these proxies (addresses or
# networks, e.g. "127.0.0.1,172.16.0.0/12"): then the nearest X-Forwarded-For entry that is
# not one of them. Empty (the default): X-Forwarded-For is ignored, a client could forge it.
GLITCHLAB_TRUSTED_PROXIES = [
    p.strip() for p in env_str("GLITCHLAB_TRUSTED_PROXIES", "").split(",") if p.strip()
]
AXES_FAILURE_LIMIT = GLITCHLAB_LOGIN_MAX_FAILURES
AXES_COOLOFF_TIME = timedelta(seconds=GLITCHLAB_LOGIN_WINDOW_S)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # no row per successful login
AXES_CLIENT_IP_CALLABLE = "webapp.accounts.login_limit.client_address"
AXES_LOCKOUT_CALLABLE = "webapp.accounts.login_limit.lockout_response"
# Failed tries are counted in the shared cache (Redis) where there is one, else in the
# database: never per process, where each web process would count its own.
AXES_HANDLER = (
    "webapp.accounts.login_limit.FailOpenCacheHandler"
    if _SHARED_CACHE
    else "axes.handlers.database.AxesDatabaseHandler"
)
AUTHENTICATION_BACKENDS = [
    "webapp.accounts.login_limit.LoginLimitBackend",  # first: refuses a locked pair
    "django.contrib.auth.backends.ModelBackend",
]
# Django's four: not like the username, at least 10 characters, not a common password,
# not only digits. Sign-up and password changes check them (demo accounts are set directly).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("GLITCHLAB_PASSWORD_MIN_LENGTH", 10)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# API tokens (POST /api/token/) stop working this many days after they were issued, and
# at logout; asking again after expiry issues a new one.
GLITCHLAB_TOKEN_TTL_DAYS = env_float("GLITCHLAB_TOKEN_TTL_DAYS", 14.0)

# --- REST API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "webapp.accounts.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "webapp.api_errors.exception_handler",
    # DRF's three, with a JSON body's size and nesting bounded (webapp/api_parsers.py): every
    # API view's, the token view's too (ObtainAuthToken names DRF's own: it names these again).
    "DEFAULT_PARSER_CLASSES": [
        "webapp.api_parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GlitchLab API",
    "DESCRIPTION": "Label LIGO glitch spectrograms: classes, the next subject, votes.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # /api/docs/ and /api/redoc/ load their scripts from the installed sidecar, no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Labelling: consensus, levels, gold, queue ---
# The one place these numbers live (per-class retirement thresholds may be overridden on
# GlitchClass.retire_threshold). webapp/labeling/config.py reads them; nothing else should.
# Gravity Spy's rules: retire when max W > 0.9 with >= 2 views, close at 50 votes, 3
# None_of_the_Above votes move a subject on (for us: to the discovery queue).
GLITCHLAB_RETIRE_THRESHOLD = env_float("GLITCHLAB_RETIRE_THRESHOLD", 0.9)
GLITCHLAB_RETIRE_MIN_VIEWS = env_int("GLITCHLAB_RETIRE_MIN_VIEWS", 2)
GLITCHLAB_CLOSE_AT_VOTES = env_int("GLITCHLAB_CLOSE_AT_VOTES", 50)
GLITCHLAB_NONE_VOTES_TO_DISCOVERY = env_int("GLITCHLAB_NONE_VOTES_TO_DISCOVERY", 3)
# A vote for a class weighs only once the volunteer has answered that class on
# GLITCHLAB_MIN_GOLD_TO_WEIGH gold subjects (Gravity Spy: no weight without gold history).
# Their answers are then trusted as if GLITCHLAB_PRIOR_WEIGHT more gold answers of the class
# had been right with probability GLITCHLAB_PRIOR_ALPHA; real gold answers soon outweigh
# this. The prior alpha may not exceed the retirement threshold (refused at start-up).
GLITCHLAB_MIN_GOLD_TO_WEIGH = env_int("GLITCHLAB_MIN_GOLD_TO_WEIGH", 1)
GLITCHLAB_PRIOR_ALPHA = env_float("GLITCHLAB_PRIOR_ALPHA", 0.8)
GLITCHLAB_PRIOR_WEIGHT = env_float("GLITCHLAB_PRIOR_WEIGHT", 2.0)
# Optional per-level vote weights, e.g. "1,1,1.5,2,2": a level-L volunteer's vote counts
# as the L-th number (the last one for higher levels) times one vote; the model counts as
# one. Empty (the default): every vote counts once, as in Gravity Spy.
GLITCHLAB_LEVEL_WEIGHTS = [
    float(w) for w in env_str("GLITCHLAB_LEVEL_WEIGHTS", "").split(",") if w.strip()
]
# Promotion: every class the volunteer's current level introduced needs alpha >= this on
# gold, from at least GLITCHLAB_PROMOTION_MIN_GOLD gold answers of that class (alpha: the
# lower of Gravity Spy's column alpha and the recall; consensus.ClassSkill).
GLITCHLAB_PROMOTION_ALPHA = env_float("GLITCHLAB_PROMOTION_ALPHA", 0.7)
GLITCHLAB_PROMOTION_MIN_GOLD = env_int("GLITCHLAB_PROMOTION_MIN_GOLD", 3)
# Share of gold subjects mixed into a volunteer's queue (0..1).
GLITCHLAB_GOLD_RATE = env_float("GLITCHLAB_GOLD_RATE", 0.2)
# Seconds a web or worker process keeps its copy of the class table (names, status,
# thresholds: read on every vote). A class an admin accepts or deprecates reaches the other
# processes within this time; the process that made the change sees it at once.
GLITCHLAB_CLASS_CACHE_S = env_float("GLITCHLAB_CLASS_CACHE_S", 5.0)
# Levels: each entry lists the classes that level ADDS (Gravity Spy's order).
# None_of_the_Above is offered at every level.
GLITCHLAB_LEVELS: list[list[str]] = [
    ["Blip", "Whistle"],
    ["Koi_Fish", "Power_Line", "Violin_Mode"],
    ["Chirp", "Low_Frequency_Burst", "No_Glitch", "Scattered_Light"],
    [
        "Air_Compressor",
        "Extremely_Loud",
        "Helix",
        "Light_Modulation",
        "Low_Frequency_Lines",
        "Paired_Doves",
        "Repeating_Blips",
        "Scratchy",
        "Tomte",
        "Wandering_Line",
    ],
    ["1080Lines", "1400Ripples"],
]

# Demo mode (manage.py seed_demo, DEBUG only): the one password of the demo accounts, and
# the real Gravity Spy images the field guide is filled from (shipped with the product:
# docs/data_notice.md).
GLITCHLAB_DEMO_PASSWORD = env_str("GLITCHLAB_DEMO_PASSWORD", "glitchlab-demo")
GLITCHLAB_FIELD_GUIDE_DIR = Path(
    env_str(
        "GLITCHLAB_FIELD_GUIDE_DIR", str(BASE_DIR / "webapp" / "labeling" / "field_guide_examples")
    )
)
# Subject sources made by the simulator (ml synth; scripts/demo.sh imports these three):
# a field-guide example taken from one of their gold subjects is labelled "simulated".
_SIMULATED = env_str("GLITCHLAB_SIMULATED_SOURCES", "demo-gold,demo-validation,demo-pool")
# simulated against real is also what a retrain's class-source sampling balances
GLITCHLAB_SIMULATED_SOURCES = [source.strip() for source in _SIMULATED.split(",") if source.strip()]
# Subject sources that are Gravity Spy's data (its training set, the shipped real glitches
# under their folder's name): only their glitches' ids are exported as gravityspy_id. Any
# other id (ml scan's, drawn from a hash like Gravity Spy's) only looks like one.
_GRAVITYSPY = env_str("GLITCHLAB_GRAVITYSPY_SOURCES", "gravityspy-real")
GLITCHLAB_GRAVITYSPY_SOURCES = [
    source.strip() for source in _GRAVITYSPY.split(",") if source.strip()
]

# --- Celery ---
# Queue names and task routes live in tasks/queues.py; only tunables live here.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Long GPU jobs: a worker takes one message at a time, so a queued job is never stuck
# behind a running one on a busy worker while another worker idles.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TRACK_STARTED = True
CELERY_RESULT_EXPIRES = 7 * 24 * 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis lost for a moment: a running job goes on (it needs only the database; its row is
# its record). True made the prefork pool kill every running acks_late job, training
# included, on a Redis restart. A message redelivered later (visibility_timeout) finds its
# row finished and is skipped (tasks.common's claims), so nothing runs twice.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Hard limit of one training run; the soft limit comes a minute earlier so the task can
# record why it stopped.
GLITCHLAB_TRAIN_TIME_LIMIT_S = env_int("GLITCHLAB_TRAIN_TIME_LIMIT_S", 6 * 3600)
# Scoring the whole backlog (predict + embed every unretired subject); also the limit of
# the switch to a new model, of embedding for discovery and of clustering.
GLITCHLAB_SCORE_TIME_LIMIT_S = env_int("GLITCHLAB_SCORE_TIME_LIMIT_S", 2 * 3600)
# One label audit (webapp/review).
GLITCHLAB_AUDIT_TIME_LIMIT_S = env_int("GLITCHLAB_AUDIT_TIME_LIMIT_S", 2 * 3600)
# Redis re-delivers an unacknowledged message after visibility_timeout: it must exceed the
# longest task, or a training still running on one worker is handed to a second one.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": max(
        GLITCHLAB_TRAIN_TIME_LIMIT_S, GLITCHLAB_SCORE_TIME_LIMIT_S, GLITCHLAB_AUDIT_TIME_LIMIT_S
    )
    + 3600,
    "socket_connect_timeout": 1.0,
}
# Redis down: publishing a job gives up within about a second, and the caller fails the job
# with the reason (tasks/publish.py), instead of a web request hanging for 19 s (three
# publish retries, then twenty reconnects of the result backend) and leaving it queued.
CELERY_BROKER_CONNECTION_TIMEOUT = 1.0
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 1.0
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "retry_policy": CELERY_TASK_PUBLISH_RETRY_POLICY,
}
# Beat: every GLITCHLAB_RETRAIN_EVERY_HOURS, retrain if at least GLITCHLAB_RETRAIN_MIN_NEW_LABELS
# subjects retired since the newest model was trained, promoted or not (0 hours: no automatic
# retraining).
GLITCHLAB_RETRAIN_EVERY_HOURS = env_float("GLITCHLAB_RETRAIN_EVERY_HOURS", 24.0)
GLITCHLAB_RETRAIN_MIN_NEW_LABELS = env_int("GLITCHLAB_RETRAIN_MIN_NEW_LABELS", 200)
# Self-training: a retrain lets its first model label up to this many open pool glitches
# (the newest) and trains again with those it is sure of (TrainConfig.self_train). 0: off,
# the default: on real glitches it helped in one benchmark run and hurt in two
# (docs/real_benchmark.md), and it doubles the training time.
GLITCHLAB_SELF_TRAIN_POOL = env_int("GLITCHLAB_SELF_TRAIN_POOL", 0)
# ... and how sure (its top probability) the first model must be of a pool glitch for it to
# join the second training (unset: TrainConfig.self_train's default, 0.9).
GLITCHLAB_SELF_TRAIN_MIN_CONFIDENCE = env_optional("GLITCHLAB_SELF_TRAIN_MIN_CONFIDENCE", float)
# A running job writes a heartbeat this often; one silent for GLITCHLAB_HEARTBEAT_TIMEOUT_S
# is declared lost by the reaper (beat, every GLITCHLAB_REAPER_EVERY_S) and marked failed.
GLITCHLAB_HEARTBEAT_EVERY_S = env_float("GLITCHLAB_HEARTBEAT_EVERY_S", 10.0)
GLITCHLAB_HEARTBEAT_TIMEOUT_S = env_float("GLITCHLAB_HEARTBEAT_TIMEOUT_S", 300.0)
GLITCHLAB_REAPER_EVERY_S = env_float("GLITCHLAB_REAPER_EVERY_S", 60.0)
# A job still queued this long after it was requested lost its message (Redis lost its
# data): the reaper fails it, so it no longer holds its kind's one live-job slot. Well
# above the longest wait behind other jobs on one GPU worker (training + scoring limits).
GLITCHLAB_QUEUED_TIMEOUT_S = env_float("GLITCHLAB_QUEUED_TIMEOUT_S", 24 * 3600.0)
# Gate (webapp/modeling/gate.py): the new and the active model are compared on the same
# validation glitches with McNemar's exact test at this level; the new one fails only if
# significantly worse, and is left to an admin when too few glitches tell them apart.
GLITCHLAB_GATE_ALPHA = env_float("GLITCHLAB_GATE_ALPHA", 0.05)
if "GLITCHLAB_PROMOTE_MARGIN" in os.environ:
    # A top-1 margin has no meaning for a paired test: ignoring it would hide that.
    raise ImproperlyConfigured(
        "GLITCHLAB_PROMOTE_MARGIN is gone: the gate now compares the models pair by pair "
        "(McNemar). Set GLITCHLAB_GATE_ALPHA (significance level; default 0.05) and remove "
        "GLITCHLAB_PROMOTE_MARGIN."
    )
GLITCHLAB_AUTO_PROMOTE = env_bool("GLITCHLAB_AUTO_PROMOTE", True)
# What a retrain trains: ml.train.TrainConfig's fields, as `python -m ml train` trains them
# (its defaults, decided by docs/real_benchmark.md's rules: efficientnet_lite0, rgb-durations,
# 224 px, 10 epochs, batch 64, fine-tuned from ImageNet weights, seed 0). A setting left unset
# (None) keeps TrainConfig's default: repeated here, a default the benchmark changed in
# ml/train_config.py would not have reached the product. Set one to depart from the recipe (the demo
# trains head only at 128 px); tests shrink them.
GLITCHLAB_TRAIN_BACKBONE = env_optional("GLITCHLAB_TRAIN_BACKBONE", str)
GLITCHLAB_TRAIN_ENCODING = env_optional("GLITCHLAB_TRAIN_ENCODING", str)
GLITCHLAB_TRAIN_IMAGE_SIZE = env_optional("GLITCHLAB_TRAIN_IMAGE_SIZE", int)
GLITCHLAB_TRAIN_EPOCHS = env_optional("GLITCHLAB_TRAIN_EPOCHS", int)
GLITCHLAB_TRAIN_BATCH_SIZE = env_optional("GLITCHLAB_TRAIN_BATCH_SIZE", int)
GLITCHLAB_TRAIN_HEAD_ONLY = env_optional("GLITCHLAB_TRAIN_HEAD_ONLY", parse_bool)
GLITCHLAB_TRAIN_PRETRAINED = env_optional("GLITCHLAB_TRAIN_PRETRAINED", parse_bool)
GLITCHLAB_TRAIN_SEED = env_optional("GLITCHLAB_TRAIN_SEED", int)
# Where models train and predict (scoring, discovery's embeddings, the audit's features too).
GLITCHLAB_TRAIN_DEVICE = env_str("GLITCHLAB_TRAIN_DEVICE", "auto")
# > 0: each retrain also trains a model on the simulated glitches alone (the sources in
# GLITCHLAB_SIMULATED_SOURCES) and averages its probabilities in with this weight
# (TrainConfig.sim_only_weight; twice the training time, unless a newer model's is reused:
# same simulated subjects, settings and code); 0: off. Unset: TrainConfig's
# default, left to the data: 0.5 when the training glitches are simulated and real both,
# else off (docs/real_benchmark.md, "The average becomes the default").
GLITCHLAB_TRAIN_SIM_ONLY_WEIGHT = env_optional("GLITCHLAB_TRAIN_SIM_ONLY_WEIGHT", float)
# Unset, head_only is TrainConfig's default (read from ml/train_config.py: no torch, so the
# web process starts as fast), not "off": a recipe that one day defaults to head-only
# would have let every retrain fail instead.
_HEAD_ONLY = (
    TrainConfig().head_only if GLITCHLAB_TRAIN_HEAD_ONLY is None else GLITCHLAB_TRAIN_HEAD_ONLY
)
if GLITCHLAB_TRAIN_SIM_ONLY_WEIGHT is not None and (
    not 0 <= GLITCHLAB_TRAIN_SIM_ONLY_WEIGHT < 1
    or (GLITCHLAB_TRAIN_SIM_ONLY_WEIGHT > 0 and _HEAD_ONLY)
):  # said at start-up, not by every retrain failing
    raise ImproperlyConfigured(
        "GLITCHLAB_TRAIN_SIM_ONLY_WEIGHT is a weight in [0, 1) for fine-tuned models "
        f"(GLITCHLAB_TRAIN_HEAD_ONLY off); got {GLITCHLAB_TRAIN_SIM_ONLY_WEIGHT}"
    )
GLITCHLAB_SCORE_BATCH_SIZE = env_int("GLITCHLAB_SCORE_BATCH_SIZE", 512)
# Queue ranking after each model: uncertainty vs diversity, and how confident a predicted
# class must be for a subject to go to the level that introduced that class.
GLITCHLAB_RANK_DIVERSITY = env_float("GLITCHLAB_RANK_DIVERSITY", 0.3)
GLITCHLAB_ROUTE_CONFIDENCE = env_float("GLITCHLAB_ROUTE_CONFIDENCE", 0.9)

# --- Review ---
# The label audit (webapp/review, tasks/review.py, ml/audit.py): every
# GLITCHLAB_AUDIT_EVERY_HOURS (0: only on demand) out-of-fold probabilities of every retired
# and gold subject from a GLITCHLAB_AUDIT_FOLDS-fold linear head, blended with the weighted
# volunteer votes (the model counts as GLITCHLAB_AUDIT_MODEL_VOTES volunteers, so one vote
# cannot outvote a confident model), ranked and flagged by cleanlab.
GLITCHLAB_AUDIT_EVERY_HOURS = env_float("GLITCHLAB_AUDIT_EVERY_HOURS", 24.0)
GLITCHLAB_AUDIT_FOLDS = env_int("GLITCHLAB_AUDIT_FOLDS", 5)
GLITCHLAB_AUDIT_C = env_float("GLITCHLAB_AUDIT_C", 0.05)
GLITCHLAB_AUDIT_MODEL_VOTES = env_float("GLITCHLAB_AUDIT_MODEL_VOTES", 34.0)
if "GLITCHLAB_AUDIT_VOTE_WEIGHT" in os.environ:
    # Renamed, with another meaning: ignoring it silently would change a deployment's audit.
    raise ImproperlyConfigured(
        "GLITCHLAB_AUDIT_VOTE_WEIGHT is gone: the audit now weighs votes by their number. "
        "Set GLITCHLAB_AUDIT_MODEL_VOTES (how many volunteers the model counts as; default "
        "34) and remove GLITCHLAB_AUDIT_VOTE_WEIGHT."
    )
# Features of the head: "backbone" (frozen ImageNet, never saw our labels: no leak into the
# out-of-fold probabilities) or "active-model" (the active model's embeddings: stronger, but
# fine-tuned on the very labels being audited, so it tends to vouch for them).
GLITCHLAB_AUDIT_FEATURES = env_str("GLITCHLAB_AUDIT_FEATURES", "backbone")
# Suspects kept per run: every confident-learning issue, at least MIN and at most MAX rows.
GLITCHLAB_AUDIT_MIN_SUSPECTS = env_int("GLITCHLAB_AUDIT_MIN_SUSPECTS", 50)
GLITCHLAB_AUDIT_MAX_SUSPECTS = env_int("GLITCHLAB_AUDIT_MAX_SUSPECTS", 2000)

# --- Discovery ---
# Embeddings (one .npz per model version) and the 2-D map live here.
GLITCHLAB_DISCOVERY_DIR = VAR_DIR / "discovery"
# Volunteers from this level on get cluster sheets (reviewers and admins always).
GLITCHLAB_DISCOVERY_MIN_LEVEL = env_int("GLITCHLAB_DISCOVERY_MIN_LEVEL", 2)
# A cluster sheet shows between these many glitches (fewer if the cluster is smaller).
GLITCHLAB_BATCH_MIN = env_int("GLITCHLAB_BATCH_MIN", 20)
GLITCHLAB_BATCH_MAX = env_int("GLITCHLAB_BATCH_MAX", 50)
# Accepting a new class makes a glitch one of its gold subjects only when at least this
# many distinct volunteers gave it the class (and they are most of its voters).
GLITCHLAB_NEW_CLASS_GOLD_MIN_VOLUNTEERS = env_int("GLITCHLAB_NEW_CLASS_GOLD_MIN_VOLUNTEERS", 3)
# A volunteer may have at most this many proposals waiting for a reviewer: a name, once
# proposed, is taken for good (even rejected), so one account must not reserve dozens.
GLITCHLAB_PROPOSALS_WAITING_MAX = env_int("GLITCHLAB_PROPOSALS_WAITING_MAX", 3)
# Clustered: discovery subjects, None_of_the_Above predictions, and open subjects whose
# model confidence is below this.
GLITCHLAB_DISCOVERY_LOW_CONFIDENCE = env_float("GLITCHLAB_DISCOVERY_LOW_CONFIDENCE", 0.5)
GLITCHLAB_DISCOVERY_MIN_CLUSTER_SIZE = env_int("GLITCHLAB_DISCOVERY_MIN_CLUSTER_SIZE", 5)
GLITCHLAB_SIMILAR_K = env_int("GLITCHLAB_SIMILAR_K", 12)

# Talk: comments one account may post in a minute (counted on the cache above: shared by
# every web worker when GLITCHLAB_CACHE_URL is Redis).
GLITCHLAB_TALK_COMMENTS_PER_MINUTE = env_int("GLITCHLAB_TALK_COMMENTS_PER_MINUTE", 10)
# New Talk searches (each scans the comments; paging through one is not counted) one account
# may make in a minute, and one address: higher, as a classroom behind one NAT shares it.
GLITCHLAB_TALK_SEARCHES_PER_MINUTE = env_int("GLITCHLAB_TALK_SEARCHES_PER_MINUTE", 20)
GLITCHLAB_TALK_SEARCHES_PER_MINUTE_PER_ADDRESS = env_int(
    "GLITCHLAB_TALK_SEARCHES_PER_MINUTE_PER_ADDRESS", 100
)
# Label and vote exports streaming at once, per account and on the whole site: each holds a web
# thread until its client has read it all (webapp/labeling/export_slots.py).
GLITCHLAB_EXPORTS_PER_USER = env_int("GLITCHLAB_EXPORTS_PER_USER", 1)
GLITCHLAB_EXPORTS_AT_ONCE = env_int("GLITCHLAB_EXPORTS_AT_ONCE", 2)
# The key of the votes export's volunteer pseudonyms (exports.voter_pseudonym); empty:
# SECRET_KEY, as before it existed. Set, SECRET_KEY may be rotated and the pseudonyms stay;
# changing it gives every volunteer a new one (docs/security.md, the settings table).
GLITCHLAB_PSEUDONYM_KEY = env_str("GLITCHLAB_PSEUDONYM_KEY", "")
# Which code this is, said in the exports' about.json beside the package's version: set when
# the image is built (docs/deploy.md: git describe of the checkout); empty, `git describe`
# of the checkout the app runs from, when there is one.
GLITCHLAB_SOURCE_VERSION = env_str("GLITCHLAB_SOURCE_VERSION", "")
# plotly.min.js is served from the installed plotly package (no CDN, not committed).
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "webapp.discovery.staticfiles.PlotlyFinder",
]
