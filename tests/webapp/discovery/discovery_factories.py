"""Discovery factories: volunteers at a level, role holders, stored embeddings, clusters."""

import numpy as np
from django.contrib.auth.models import Group
from webapp_factories import SubjectFactory, UserFactory, gold_subject

from webapp.discovery import services
from webapp.modeling.models import ModelVersion


def volunteer(name: str, level: int = 2):
    return UserFactory(username=name, profile__level=level)


def with_role(name: str, role: str):
    user = UserFactory(username=name)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def stored_cluster(n: int = 6, *, gold: int = 0, dim: int = 8, seed: int = 0):
    """Active model, embeddings of n pool subjects (+ gold ones) and one cluster of the pool."""
    version, _ = ModelVersion.objects.get_or_create(name="test-model", defaults={"is_active": True})
    subjects = [SubjectFactory(images=(1.0,)) for _ in range(n)]
    golds = [gold_subject("Blip", images=(1.0,)) for _ in range(gold)]
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n + gold, dim)).astype(np.float32)
    embedding_set = services.embedding_set_claim(version_id=version.pk)
    ids = [s.pk for s in subjects + golds]
    services.embedding_set_store(set_id=embedding_set.pk, ids=ids, embeddings=vectors)
    run = services.cluster_run_store(
        set_id=embedding_set.pk,
        subject_ids=[s.pk for s in subjects],
        labels=[0] * n,
        embeddings=vectors[:n],
        params={},
    )
    return run, subjects, golds, vectors
