"""Settings come from the environment; debug only when asked for, and outside debug a real
SECRET_KEY is required (none printed in this repository)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _print_settings(expression: str, environment: dict[str, str]):
    """A fresh process imports webapp.settings as `s` under `environment`, prints `expression`."""
    return subprocess.run(
        [sys.executable, "-c", f"import webapp.settings as s; print({expression})"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )


def import_settings(**env):
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    environment.update(env)
    return _print_settings("s.DEBUG, s.SECRET_KEY", environment)


def setting(expression: str, tmp_path: Path, **env: str) -> str:
    """`expression` as printed with `env` added to this process's environment."""
    environment = {**os.environ, "GLITCHLAB_VAR_DIR": str(tmp_path), **env}
    return _print_settings(expression, environment).stdout.strip()


def test_secret_key_is_required_outside_debug(tmp_path):
    result = import_settings(DEBUG="0", GLITCHLAB_VAR_DIR=str(tmp_path))
    assert result.returncode != 0 and "SECRET_KEY is required" in result.stderr
    result = import_settings(DEBUG="0", SECRET_KEY="s3cret", GLITCHLAB_VAR_DIR=str(tmp_path))
    assert result.returncode == 0 and result.stdout.split() == ["False", "s3cret"]


def test_debug_is_off_unless_asked_for(tmp_path):
    result = import_settings(GLITCHLAB_VAR_DIR=str(tmp_path))
    assert result.returncode != 0 and "SECRET_KEY is required" in result.stderr
    result = import_settings(SECRET_KEY="s3cret", GLITCHLAB_VAR_DIR=str(tmp_path))
    assert result.returncode == 0 and result.stdout.split() == ["False", "s3cret"]
    result = import_settings(DEBUG="true", GLITCHLAB_VAR_DIR=str(tmp_path))
    assert result.returncode == 0 and result.stdout.split() == [
        "True",
        "insecure-dev-key-only-for-debug",
    ]


def test_keys_printed_in_the_repository_are_refused_outside_debug(tmp_path):
    env_example = (ROOT / ".env.example").read_text()
    printed = ["insecure-dev-key-only-for-debug", env_example.split("SECRET_KEY=")[1].split()[0]]
    for key in printed:
        result = import_settings(SECRET_KEY=key, GLITCHLAB_VAR_DIR=str(tmp_path))
        assert result.returncode != 0, key
        assert "must not be a key printed in this repository" in result.stderr
        assert "DEBUG=true on a development machine" in result.stderr
        result = import_settings(SECRET_KEY=key, DEBUG="1", GLITCHLAB_VAR_DIR=str(tmp_path))
        assert result.returncode == 0 and result.stdout.split() == ["True", key]


def test_old_secret_keys_for_a_rotation_come_from_the_environment(tmp_path):
    """docs/security.md asks operators to keep the old key in SECRET_KEY_FALLBACKS when
    they rotate SECRET_KEY (or every assignment handed out before is refused)."""
    base = {k: v for k, v in os.environ.items() if k != "SECRET_KEY_FALLBACKS"}
    base.update(DEBUG="0", SECRET_KEY="n3w-s3cret", GLITCHLAB_VAR_DIR=str(tmp_path))

    def fallbacks(**env: str):
        return _print_settings("s.SECRET_KEY_FALLBACKS", {**base, **env})

    assert fallbacks().stdout == "[]\n"
    rotated = fallbacks(SECRET_KEY_FALLBACKS="0ld-one, 0ld-two,")
    assert rotated.stdout == "['0ld-one', '0ld-two']\n", rotated.stderr
    public = fallbacks(SECRET_KEY_FALLBACKS="insecure-dev-key-only-for-debug")
    assert public.returncode != 0 and "SECRET_KEY_FALLBACKS holds a key printed" in public.stderr


def test_database_url_selects_postgresql(tmp_path):
    engine = setting(
        "s.DATABASES['default']['ENGINE']", tmp_path, DATABASE_URL="postgres://u@db:5432/x"
    )
    assert engine == "django.db.backends.postgresql"


def test_a_kept_database_connection_is_checked_before_a_request_uses_it(tmp_path):
    """Connections live DB_CONN_MAX_AGE (60 s); one the server ended (a PostgreSQL restart)
    failed the next request of every web thread (tests/webapp/test_healthz.py)."""
    checked = setting(
        "s.DATABASES['default']['CONN_HEALTH_CHECKS']",
        tmp_path,
        DATABASE_URL="postgres://u@db:5432/x",
    )
    assert checked == "True"


def test_the_renamed_audit_vote_weight_is_refused_not_ignored(tmp_path):
    result = import_settings(
        DEBUG="1", GLITCHLAB_VAR_DIR=str(tmp_path), GLITCHLAB_AUDIT_VOTE_WEIGHT="0.5"
    )
    assert result.returncode != 0 and "GLITCHLAB_AUDIT_MODEL_VOTES" in result.stderr


def test_the_promote_margin_is_refused_now_that_the_gate_is_a_paired_test(tmp_path):
    result = import_settings(
        DEBUG="1", GLITCHLAB_VAR_DIR=str(tmp_path), GLITCHLAB_PROMOTE_MARGIN="0.02"
    )
    assert result.returncode != 0 and "GLITCHLAB_GATE_ALPHA" in result.stderr


def test_simulated_sources_are_read_as_written_with_spaces_after_commas(tmp_path):
    # a retrain balances simulated against real glitches by this list: " demo-pool" read
    # as a name of its own would make the demo's pool real
    sources = setting(
        "s.GLITCHLAB_SIMULATED_SOURCES",
        tmp_path,
        GLITCHLAB_SIMULATED_SOURCES="demo-gold, demo-pool ,,",
    )
    assert sources == "['demo-gold', 'demo-pool']"


def test_a_sim_only_weight_a_retrain_cannot_use_is_refused_at_start_up(tmp_path):
    """Head-only retrains (the demo's) train no second model, and a weight of 1 or more is
    no average: before, each retrain failed when it ran."""
    for env in ({"GLITCHLAB_TRAIN_SIM_ONLY_WEIGHT": "0.5", "GLITCHLAB_TRAIN_HEAD_ONLY": "true"},
                {"GLITCHLAB_TRAIN_SIM_ONLY_WEIGHT": "1"}):  # fmt: skip
        result = import_settings(DEBUG="true", GLITCHLAB_VAR_DIR=str(tmp_path), **env)
        assert (
            result.returncode != 0
            and "GLITCHLAB_TRAIN_SIM_ONLY_WEIGHT is a weight" in result.stderr
        )
    weight = setting("s.GLITCHLAB_TRAIN_SIM_ONLY_WEIGHT", tmp_path, DEBUG="true",
                     GLITCHLAB_TRAIN_SIM_ONLY_WEIGHT="0.5")  # fmt: skip
    assert weight == "0.5"


def test_an_unset_head_only_is_the_recipes_default_not_off(tmp_path):
    """Unset, GLITCHLAB_TRAIN_HEAD_ONLY leaves TrainConfig's default (ml/train_config.py); the
    check read it as off, right only while that default is False."""
    head_only_recipe = (
        "import dataclasses, ml.train_config as c\n"
        "c.TrainConfig = dataclasses.make_dataclass('T', [('head_only', bool, True)], "
        "bases=(c.TrainConfig,))\n"
        "import webapp.settings\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", head_only_recipe],
        cwd=ROOT,
        env={
            **os.environ,
            "DEBUG": "true",
            "GLITCHLAB_VAR_DIR": str(tmp_path),
            "GLITCHLAB_TRAIN_SIM_ONLY_WEIGHT": "0.5",
        },  # fmt: skip
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "GLITCHLAB_TRAIN_SIM_ONLY_WEIGHT is a weight" in result.stderr


def test_redis_waits_longer_than_any_job_may_run_before_it_delivers_again(tmp_path):
    """An audit allowed more time than a training ran past the visibility timeout, and
    Redis handed the still-running audit to a second worker."""
    for limit in ("GLITCHLAB_TRAIN_TIME_LIMIT_S", "GLITCHLAB_SCORE_TIME_LIMIT_S",
                  "GLITCHLAB_AUDIT_TIME_LIMIT_S"):  # fmt: skip
        visibility = setting(
            's.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]', tmp_path,
            DEBUG="true", **{limit: str(30 * 3600)},
        )  # fmt: skip
        assert int(visibility) > 30 * 3600, limit


def env_example() -> dict[str, str]:
    """.env.example's variables, as docker compose reads the file (`env_file`)."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if "=" in line and not line.startswith("#")]
    return {name.strip(): value.strip() for name, value in pairs}


def test_env_example_serves_pages_behind_the_tls_proxy_deploy_md_asks_for(tmp_path):
    """The proxy forwards an HTTPS request over plain HTTP with X-Forwarded-Proto: https.
    Before, .env.example left SECURE_PROXY_SSL_HEADER off, and every page answered with a
    redirect to its own https:// address, forever ("too many redirects")."""
    example = env_example()
    environment = {
        **{k: v for k, v in os.environ.items() if k not in example and k != "DEBUG"},
        **example,
        "SECRET_KEY": "test-only-" + "x" * 50,  # the example's own key is refused
        "GLITCHLAB_VAR_DIR": str(tmp_path),  # a SQLite file there: no host `postgres` here
        "GLITCHLAB_CACHE_URL": "locmem://",  # nor `redis`
        "DJANGO_SETTINGS_MODULE": "webapp.settings",
    }
    del environment["DATABASE_URL"]
    answers = subprocess.run(
        [sys.executable, "-c", PROXIED_REQUESTS], cwd=ROOT, env=environment,
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    assert answers == [
        "https 200 -",
        # what the proxy forwards from a plain-HTTP client is still sent to HTTPS
        "http 301 https://glitchlab.example.org/accounts/login/",
    ]


PROXIED_REQUESTS = """
import django
django.setup()
from django.test import Client
for proto in ("https", "http"):
    answer = Client().get(
        "/accounts/login/", HTTP_HOST="glitchlab.example.org", HTTP_X_FORWARDED_PROTO=proto
    )
    print(proto, answer.status_code, answer.get("Location", "-"))
"""
