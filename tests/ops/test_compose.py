"""docker-compose.yml describes the production deployment (docker itself does not run in CI)."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def load_compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_every_service_of_the_deployment() -> None:
    services = load_compose()["services"]
    assert set(services) == {"web", "worker-gpu", "worker", "beat", "redis", "postgres"}


def test_gpu_worker_takes_only_the_gpu_queue_one_job_at_a_time_on_an_nvidia_device() -> None:
    gpu = load_compose()["services"]["worker-gpu"]
    command = gpu["command"].split()
    assert command[command.index("-Q") + 1] == "gpu"
    assert command[command.index("-c") + 1] == "1"
    assert command[command.index("--prefetch-multiplier") + 1] == "1"
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]


def test_cpu_worker_and_beat_use_the_celery_app_in_tasks() -> None:
    services = load_compose()["services"]
    worker = services["worker"]["command"].split()
    assert worker[:3] == ["celery", "-A", "tasks"]
    assert worker[worker.index("-Q") + 1] == "default"
    assert services["beat"]["command"].split()[:4] == ["celery", "-A", "tasks", "beat"]


def test_web_serves_after_migrating_and_reads_secrets_from_the_env_file() -> None:
    services = load_compose()["services"]
    web = services["web"]
    assert "migrate" in web["command"] and "python -m webapp.serve" in web["command"]
    # The field guide is filled once the classes exist, before the site serves (no account).
    steps = [web["command"].index(s) for s in ("migrate", "load_field_guide", "webapp.serve")]
    assert steps == sorted(steps)
    for name in ("web", "worker-gpu", "worker", "beat"):
        assert services[name]["env_file"] == ".env"
    env_example = (ROOT / ".env.example").read_text()
    for key in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"):
        assert f"{key}=" in env_example


def test_state_lives_in_volumes_and_every_long_running_service_has_a_healthcheck() -> None:
    compose = load_compose()
    services = compose["services"]
    assert any("/var/lib/postgresql/data" in v for v in services["postgres"]["volumes"])
    assert any(v.endswith(":/data") for v in services["redis"]["volumes"])
    assert "--appendonly yes" in services["redis"]["command"]  # a Redis restart keeps queued jobs
    for name in ("web", "worker-gpu", "worker", "redis", "postgres"):
        assert "healthcheck" in services[name], name


def test_web_is_published_on_the_hosts_loopback_unless_told_another_address() -> None:
    """.env.example believes X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER), which is safe only
    if the proxy is the app's one client; port 8000 was published on every interface, so any
    client could reach the app and claim HTTPS. A proxy on another host names the address."""
    (port,) = load_compose()["services"]["web"]["ports"]
    assert port == "${GLITCHLAB_WEB_PUBLISH:-127.0.0.1}:8000:8000"
    assert "SECURE_PROXY_SSL_HEADER=true" in (ROOT / ".env.example").read_text()
    deploy = (ROOT / "docs" / "deploy.md").read_text()
    assert "GLITCHLAB_WEB_PUBLISH=" in deploy and "DOCKER-USER" in deploy


def test_workers_and_beat_start_once_the_web_has_migrated() -> None:
    """The web service migrates at start; workers and beat started beside it failed every
    periodic task until it ended ("column ... does not exist", an operator's upgrade)."""
    services = load_compose()["services"]
    for name in ("worker-gpu", "worker", "beat"):
        depends_on = services[name]["depends_on"]
        assert depends_on["web"] == {"condition": "service_healthy"}, name
        assert depends_on["postgres"] == depends_on["redis"] == {"condition": "service_healthy"}
    # failed checks while migrate runs must not make the web unhealthy (the workers would
    # then never start): a start period as long as an upgrade's migrations take
    start_period = services["web"]["healthcheck"]["start_period"]
    assert start_period.endswith("m") and int(start_period[:-1]) >= 10
