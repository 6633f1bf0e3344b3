"""Promote / roll back: the atomic switch, consensus with the model vote, re-routing."""

from __future__ import annotations

import numpy as np
import pytest
from glitch_data import make_subject

from webapp.labeling.models import Subject
from webapp.modeling import selectors, services
from webapp.modeling.models import ModelVersion, Prediction

pytestmark = pytest.mark.django_db

CLASSES = ["Blip", "Whistle", "Koi_Fish"]


def version(name: str, **kwargs) -> ModelVersion:
    return ModelVersion.objects.create(name=name, class_names=CLASSES, **kwargs)


def score(v: ModelVersion, subjects, rows) -> None:
    rng = np.random.default_rng(0)
    services.predictions_store(
        version_id=v.pk,
        subject_ids=[s.pk for s in subjects],
        probs=np.array(rows, dtype=np.float64),
        class_names=CLASSES,
        embeddings=rng.normal(size=(len(subjects), 1280)).astype(np.float32),
    )


@pytest.fixture
def settings_levels(settings):
    settings.GLITCHLAB_LEVELS = [["Blip", "Whistle"], ["Koi_Fish"], ["Power_Line"]]
    settings.GLITCHLAB_ROUTE_CONFIDENCE = 0.9
    return settings


def test_the_old_model_serves_until_the_new_one_is_switched_in(django_capture_on_commit_callbacks):
    old, new = version("old", is_active=True), version("new")
    with django_capture_on_commit_callbacks():
        services.model_version_request_activation(version_id=new.pk)
    assert selectors.model_version_active() == old  # pending: scoring has not finished
    services.model_version_activate(version_id=new.pk)
    assert selectors.model_version_active() == new
    old.refresh_from_db()
    assert not old.is_active and ModelVersion.objects.filter(is_active=True).count() == 1


def test_a_newer_request_supersedes_a_pending_one(django_capture_on_commit_callbacks):
    a, b = version("a"), version("b")
    with django_capture_on_commit_callbacks():
        services.model_version_request_activation(version_id=a.pk)
        services.model_version_request_activation(version_id=b.pk)
    assert services.model_version_activate(version_id=a.pk) is None
    assert services.model_version_activate(version_id=b.pk).is_active


def test_a_superseded_request_says_what_superseded_it(django_capture_on_commit_callbacks):
    active, a, b = version("active", is_active=True), version("a"), version("b")
    with django_capture_on_commit_callbacks():
        services.model_version_request_activation(version_id=a.pk)
        services.model_version_request_activation(version_id=b.pk)
    a.refresh_from_db()
    assert (a.activation_pending, a.activation_error) == (False, "superseded by the request for b")

    with django_capture_on_commit_callbacks():
        services.model_version_request_activation(version_id=active.pk)  # stay with it
    b.refresh_from_db()
    assert b.activation_error == "superseded by the request for active"


def test_a_request_for_the_active_version_leaves_it_active_not_pending(
    django_capture_on_commit_callbacks,
):
    """The page refuses to promote the active model, but checks before the lock: a request
    racing a switch reached the service and left the active model "switching" for hours."""
    active, pending = version("active", is_active=True), version("pending")
    with django_capture_on_commit_callbacks() as queued:
        services.model_version_request_activation(version_id=pending.pk)
    with django_capture_on_commit_callbacks() as queued_again:
        services.model_version_request_activation(version_id=active.pk)

    active.refresh_from_db()
    pending.refresh_from_db()
    assert active.is_active and not active.activation_pending
    assert not pending.activation_pending  # the admin's last word: stay with this one
    assert len(queued) == 1 and not queued_again  # no scoring for the model in service
    # an active version left pending by such a request before the fix is set right too
    ModelVersion.objects.filter(pk=active.pk).update(activation_pending=True)
    with django_capture_on_commit_callbacks():
        services.model_version_request_activation(version_id=active.pk)
    active.refresh_from_db()
    assert active.is_active and not active.activation_pending


def test_activation_reroutes_every_open_subject_by_the_new_model(settings_levels):
    confident_blip, unsure, confident_koi = (make_subject("Blip") for _ in range(3))
    unscored = make_subject("Blip")
    retired = make_subject("Blip", retired=True)
    for s in (confident_blip, unsure, confident_koi, unscored):
        Subject.objects.filter(pk=s.pk).update(level=1, priority=0.77)  # an old model's rank
    new = version("new", activation_pending=True)
    score(
        new,
        [confident_blip, unsure, confident_koi],
        [[0.97, 0.02, 0.01], [0.45, 0.05, 0.50], [0.02, 0.03, 0.95]],
    )
    services.model_version_activate(version_id=new.pk)

    def routed(s):
        s.refresh_from_db()
        return s.level, s.priority

    assert routed(confident_blip)[0] == 1  # Gravity Spy: confident -> the class's level
    assert routed(confident_koi)[0] == 2
    assert routed(unsure)[0] == 3  # hesitates between Blip (1) and Koi_Fish (2) -> above both
    assert all(0 < routed(s)[1] <= 1 for s in (confident_blip, unsure, confident_koi))
    assert routed(unscored)[1] == 0.0  # no old model's rank survives
    assert Subject.objects.get(pk=retired.pk).priority == 0.0  # retired: untouched
    new.refresh_from_db()
    assert new.n_rerouted == 3


def test_activation_recomputes_consensus_with_the_new_model_as_one_vote(settings_levels):
    subject = make_subject("Blip")
    new = version("new", activation_pending=True)
    score(new, [subject], [[0.2, 0.7, 0.1]])
    services.model_version_activate(version_id=new.pk)
    subject.refresh_from_db()
    # No volunteer votes yet: W is the model's probabilities alone.
    assert subject.posterior["Whistle"] == pytest.approx(0.7)


def test_beginners_get_confident_glitches_first_experts_uncertain_ones(settings_levels):
    rows = [[0.999, 0.001, 0.0], [0.93, 0.07, 0.0], [0.96, 0.04, 0.0]]
    level1 = [make_subject("Blip") for _ in rows]
    top = [make_subject("Blip") for _ in range(3)]
    top_rows = [[0.3, 0.1, 0.6], [0.5, 0.0, 0.5], [0.1, 0.2, 0.7]]
    new = version("new", activation_pending=True)
    score(new, level1 + top, rows + top_rows)
    settings_levels.GLITCHLAB_RANK_DIVERSITY = 0.0
    services.model_version_activate(version_id=new.pk)
    by_priority = lambda subjects: [  # noqa: E731
        s.pk for s in Subject.objects.filter(pk__in=[x.pk for x in subjects]).order_by("-priority")
    ]
    assert by_priority(level1) == [level1[0].pk, level1[2].pk, level1[1].pk]  # most confident
    assert by_priority(top)[0] == top[1].pk  # the 50/50 one first for experienced volunteers


def test_rolling_back_switches_to_the_previously_active_version(django_capture_on_commit_callbacks):
    first, second = version("first"), version("second")
    for v in (first, second):
        with django_capture_on_commit_callbacks():
            services.model_version_request_activation(version_id=v.pk)
        services.model_version_activate(version_id=v.pk)
    target = services.model_version_rollback_target()
    assert target == first
    with django_capture_on_commit_callbacks():
        services.model_version_request_activation(version_id=target.pk)
    services.model_version_activate(version_id=target.pk)
    assert selectors.model_version_active() == first


def test_predictions_are_stored_once_per_version(settings_levels):
    subject = make_subject("Blip")
    v = version("v")
    score(v, [subject], [[0.6, 0.3, 0.1]])
    score(v, [subject], [[0.1, 0.3, 0.6]])  # a re-delivered batch changes nothing
    p = Prediction.objects.get(model_version=v, subject=subject)
    assert p.predicted_label == "Blip" and p.confidence == pytest.approx(0.6)
    assert p.margin == pytest.approx(0.3) and len(bytes(p.embedding)) == 64 * 2


def test_a_request_whose_scoring_never_finished_expires_and_says_why():
    """A promote whose scoring job was lost (its worker killed) showed "switching" until
    the request expired: the reaper's beat drops it, and the page says what to do."""
    from datetime import timedelta

    from django.utils import timezone

    active, lost = version("active", is_active=True), version("lost")
    asked = timezone.now() - timedelta(hours=8)
    ModelVersion.objects.filter(pk=lost.pk).update(
        activation_pending=True, activation_requested_at=asked
    )
    assert services.model_version_activations_expire(older_than_s=9 * 3600) == 0  # not yet

    assert services.model_version_activations_expire(older_than_s=7 * 3600) == 1

    lost.refresh_from_db()
    assert not lost.activation_pending and "promote it again" in lost.activation_error
    assert "within 7.0 h" in lost.activation_error and not lost.is_active
    assert selectors.model_version_active() == active


def test_rerouting_statements_do_not_grow_with_the_open_subjects(settings_levels):
    """Before: the re-route put every scored subject's id in one statement, a parameter
    each; PostgreSQL takes 65,535, so a backlog of Gravity Spy's size failed every
    activation (promote, rollback, the first model). The largest statement is now the
    same for 1,200 open subjects as for 2,400."""
    from django.db import connection

    new = version("new")

    def largest_statement(n: int) -> int:
        subjects = Subject.objects.bulk_create(
            Subject(external_id=f"H1_{n}_{i}", source="bulk") for i in range(n)
        )
        rows = np.tile([0.6, 0.3, 0.1], (n, 1))
        services.predictions_store(
            version_id=new.pk, subject_ids=[s.pk for s in subjects], probs=rows, class_names=CLASSES
        )
        sizes = []

        def count(execute, sql, params, many, context):
            sizes.append(len(params or ()))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            held = [s.pk for s in subjects]
            assert services.queue_reroute(version=new, subject_ids=held) == len(subjects)
        Subject.objects.all().delete()
        return max(sizes)

    assert largest_statement(2400) == largest_statement(1200)
