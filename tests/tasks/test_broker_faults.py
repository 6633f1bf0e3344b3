"""A real worker on a Redis of the test's own, restarted (empty) in the middle of a
training: the run still ends succeeded, and the next run is queued and trained."""

from __future__ import annotations

import time

import pytest
from celery_stack import PrivateRedis, celery_stack, row, wait_for, wait_for_status
from glitch_data import make_dataset

from webapp.modeling import services
from webapp.modeling.models import TrainingRun

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path).start()
    yield server
    server.stop()


@pytest.mark.parametrize("pool", ["solo", "prefork"])  # prefork: production's pool
def test_a_training_survives_a_redis_restart_and_the_next_run_starts(
    tiny_settings, tmp_path, private_redis, pool
):
    with celery_stack(tiny_settings, tmp_path, broker_url=private_redis.url) as stack:
        make_dataset()
        stack.start_worker(pool=pool)
        run = services.training_run_request(
            trigger=TrainingRun.Trigger.COMMAND,
            config_overrides={"head_only": False, "epochs": 3},
        )
        wait_for(
            lambda: row(TrainingRun, run.pk).progress.get("phase") == "train",
            timeout=300,
            every=0.1,
            what="the run to be training",
        )
        private_redis.stop()
        time.sleep(2)  # the run reports progress every second: some of it meets no Redis
        private_redis.start()  # empty: the queue, results and unacked messages are gone

        done = wait_for_status(TrainingRun, run.pk, "succeeded", "failed", timeout=400)
        assert done.status == "succeeded", done.error + done.log  # the database is its record

        # The worker reconnected: the next run is queued on the new Redis and trained.
        following = services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)
        assert following.status == "queued", following.error
        after = wait_for_status(TrainingRun, following.pk, "succeeded", "failed", timeout=400)
        assert after.status == "succeeded", after.error + after.log
