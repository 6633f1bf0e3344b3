"""Discovery factories: volunteers at a level, role holders, stored embeddings, clusters."""

import numpy as np
from django.contrib.auth.models import Group
from webapp_factories import SubjectFactory, UserFactory, gold_subject

from webapp.discovery import services
from webapp.labeling.models import Classification, GlitchClass, Subject
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


def accepted_class(name: str, *, reviewer, admin, votes: int = 0, gold: int = 0, retired: int = 0):
    """An accepted proposal whose class holds `votes` volunteers' votes, `gold` gold labels
    and `retired` crowd labels: what deprecating it would move."""
    proposal = services.class_proposal_create(
        volunteer=volunteer(f"{name.lower()}-proposer"), name=name, description="d"
    )
    services.class_proposal_make_provisional(actor=reviewer, proposal_id=proposal.pk)
    services.class_proposal_accept(actor=admin, proposal_id=proposal.pk)
    glitch_class = GlitchClass.objects.get(name=name)
    for i in range(votes):
        subject = SubjectFactory(images=())
        voter = volunteer(f"{name.lower()}-voter-{i}", level=5)
        Classification.objects.create(volunteer=voter, subject=subject, glitch_class=glitch_class)
    for _ in range(gold):
        gold_subject(name, images=())
    retired_ones = [SubjectFactory(images=()) for _ in range(retired)]
    Subject.objects.filter(pk__in=[s.pk for s in retired_ones]).update(
        status=Subject.Status.RETIRED, retired_label=glitch_class
    )
    proposal.refresh_from_db()
    return proposal
