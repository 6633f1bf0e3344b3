"""Discovery test helpers: volunteers at a level, role holders, stored embeddings, clusters."""

import pytest
from discovery_factories import stored_cluster, with_role

from webapp.accounts.roles import ADMIN, REVIEWER
from webapp.discovery.models import ClusterRun


@pytest.fixture(autouse=True)
def _discovery_dir(settings, tmp_path):
    settings.GLITCHLAB_DISCOVERY_DIR = tmp_path / "discovery"
    settings.GLITCHLAB_DISCOVERY_MIN_LEVEL = 2
    settings.GLITCHLAB_BATCH_MIN = 3


@pytest.fixture
def reviewer():
    return with_role("rev", REVIEWER)


@pytest.fixture
def admin():
    return with_role("boss", ADMIN)


@pytest.fixture
def cluster():
    run, subjects, _, _ = stored_cluster()
    assert isinstance(run, ClusterRun)
    return run.clusters.get(), subjects
