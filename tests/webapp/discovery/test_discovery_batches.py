"""Cluster sheets: a volunteer labels a group of similar glitches in one action; every
selected glitch gets their vote in consensus, once, and only what they kept selected."""

import pytest
from discovery_factories import stored_cluster, volunteer, with_role
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from rest_framework.test import APIClient

from webapp.accounts.roles import REVIEWER
from webapp.discovery import services
from webapp.discovery.models import Batch, ClassProposal, Cluster, ProposalVote
from webapp.labeling.models import Classification, Subject
from webapp.labeling.services import classification_create

pytestmark = pytest.mark.django_db


def test_the_sheet_holds_the_clusters_glitches_the_volunteer_has_not_answered(cluster):
    members, subjects = cluster
    vol = volunteer("ann")
    classification_create(volunteer=vol, subject_id=subjects[0].pk, class_name="Blip")
    batch = services.batch_from_cluster(volunteer=vol)
    assert batch.cluster == members
    assert subjects[0].pk not in batch.subject_ids
    assert set(batch.subject_ids) == {s.pk for s in subjects[1:]}
    assert services.batch_from_cluster(volunteer=vol) == batch  # the open one comes back


def test_a_cluster_with_more_members_than_a_statement_binds_opens_its_sheet(cluster):
    """Before: every member's id was a parameter of one statement, so a cluster of more
    than 65,535 glitches was a 500 on PostgreSQL (250,000 on SQLite) for the sheet and
    GET /api/discovery/batches/next/. Here its open glitches come last."""
    members, subjects = cluster
    absent = list(range(10**6, 10**6 + 250_001))  # ids of no glitch: none is open
    Cluster.objects.filter(pk=members.pk).update(
        subject_ids=absent + [s.pk for s in subjects], size=len(absent) + len(subjects)
    )
    page = Client()
    page.force_login(volunteer("ann"))
    assert page.get("/discovery/sheet/").status_code == 200
    assert set(Batch.objects.get(volunteer__username="ann").subject_ids) == {s.pk for s in subjects}
    api = APIClient()
    api.force_authenticate(volunteer("bea"))
    answer = api.get("/api/discovery/batches/next/")
    assert answer.status_code == 200
    assert {s["id"] for s in answer.json()["subjects"]} == {s.pk for s in subjects}


def test_submit_votes_the_kept_glitches_only_and_a_replay_changes_nothing(cluster):
    _, subjects = cluster
    vol = volunteer("ann")
    batch = services.batch_from_cluster(volunteer=vol)
    kept, odd_one = batch.subject_ids[:-1], batch.subject_ids[-1]
    label = services.BatchLabel(class_name="Koi_Fish")
    done = services.batch_submit(volunteer=vol, batch_id=batch.pk, selected_ids=kept, label=label)
    assert done.n_voted == len(kept)
    votes = Classification.objects.filter(volunteer=vol)
    assert sorted(votes.values_list("subject_id", flat=True)) == sorted(kept)
    assert set(votes.values_list("glitch_class__name", flat=True)) == {"Koi_Fish"}
    assert not votes.filter(subject_id=odd_one).exists()
    assert Subject.objects.get(pk=kept[0]).n_votes == 1  # consensus saw the vote

    again = services.batch_submit(volunteer=vol, batch_id=batch.pk, selected_ids=kept, label=label)
    assert again.pk == done.pk and votes.count() == len(kept)


def test_a_class_above_the_volunteers_level_is_refused_and_nothing_is_saved(cluster):
    vol = volunteer("ann")
    batch = services.batch_from_cluster(volunteer=vol)
    with pytest.raises(ValidationError):
        services.batch_submit(
            volunteer=vol,
            batch_id=batch.pk,
            selected_ids=batch.subject_ids,
            label=services.BatchLabel(class_name="Helix"),  # level 4
        )
    assert not Classification.objects.filter(volunteer=vol).exists()


def test_glitches_outside_the_batch_cannot_be_labelled_through_it(cluster):
    vol = volunteer("ann")
    batch = services.batch_from_cluster(volunteer=vol)
    with pytest.raises(ValidationError):
        services.batch_submit(
            volunteer=vol,
            batch_id=batch.pk,
            selected_ids=[max(batch.subject_ids) + 1000],
            label=services.BatchLabel(class_name="Blip"),
        )


def test_a_new_class_is_proposed_and_its_glitches_count_as_none_of_the_above(cluster):
    vol = volunteer("ann")
    batch = services.batch_from_cluster(volunteer=vol)
    label = services.BatchLabel(new_name="Reverse_Chirp", new_description="a chirp run backwards")
    done = services.batch_submit(
        volunteer=vol, batch_id=batch.pk, selected_ids=batch.subject_ids, label=label
    )
    proposal = ClassProposal.objects.get(name="Reverse_Chirp")
    assert done.proposal == proposal and proposal.status == "proposed"
    assert ProposalVote.objects.filter(proposal=proposal).count() == len(batch.subject_ids)
    names = set(Classification.objects.values_list("glitch_class__name", flat=True))
    assert names == {"None_of_the_Above"}


def test_volunteers_below_the_discovery_level_get_no_sheet(cluster):
    with pytest.raises(PermissionDenied):
        services.batch_from_cluster(volunteer=volunteer("newbie", level=1))


def test_a_lasso_batch_takes_gold_glitches_like_pool_ones():
    # Issue #14: a batch that dropped gold told gold apart; a gold answer in it scores only
    # on the volunteer's gold due (tests/webapp/security/test_security_attacks_discovery.py).
    _, subjects, golds, _ = stored_cluster(n=4, gold=2)
    vol = volunteer("ann")
    batch = services.batch_from_subjects(
        volunteer=vol, subject_ids=[s.pk for s in subjects + golds]
    )
    assert set(batch.subject_ids) == {s.pk for s in subjects + golds}


def test_the_map_and_the_cluster_sheets_stay_while_a_new_models_map_is_missing(settings):
    """embed_subjects stores a new model's vectors, then queues the map and the clusters. An
    OOM-killed UMAP is not run again by itself: the page showed "not ready" and no volunteer
    got a cluster sheet until the next model, though the earlier map was there."""
    import numpy as np

    from webapp.discovery import selectors
    from webapp.modeling.models import ModelVersion

    settings.GLITCHLAB_BATCH_MIN = 2
    run, subjects, _, vectors = stored_cluster(n=6)
    old = run.embedding_set
    services.map_store(set_id=old.pk, xy=np.zeros((6, 2), dtype=np.float32))
    ModelVersion.objects.filter(is_active=True).update(is_active=False)
    new = ModelVersion.objects.create(name="new-model", is_active=True)
    newer = services.embedding_set_claim(version_id=new.pk)
    services.embedding_set_store(
        set_id=newer.pk, ids=[s.pk for s in subjects], embeddings=vectors
    )  # ready, and its clustering then lost

    assert selectors.embedding_set_current().pk == newer.pk  # similar lists: the new vectors
    points = selectors.map_points(viewer=volunteer("mapper"))
    assert points["ready"] and points["model"] == "test-model"
    # a reviewer sees the active model's guess with that model's confidence, not the map's
    from webapp.modeling.models import Prediction

    Prediction.objects.create(
        model_version=new, subject=subjects[0], probabilities={"Blip": 0.7, "Whistle": 0.3},
        predicted_label="Blip", confidence=0.7,
    )  # fmt: skip
    Prediction.objects.create(
        model_version=run.embedding_set.model_version, subject=subjects[0],
        probabilities={"Whistle": 0.9, "Blip": 0.1}, predicted_label="Whistle", confidence=0.9,
    )  # fmt: skip
    seen = selectors.map_points(viewer=with_role("rev", REVIEWER))
    at = seen["ids"].index(subjects[0].pk)
    assert (seen["label"][at], seen["confidence"][at]) == ("Blip", 0.7)
    assert selectors.cluster_run_current() == run
    assert services.batch_from_cluster(volunteer=volunteer("sheeter")) is not None
    # clustered at last, with too few candidates to group: no earlier clusters any more
    services.map_store(set_id=newer.pk, xy=np.zeros((6, 2), dtype=np.float32))
    assert selectors.cluster_run_current() is None
    assert selectors.map_points(viewer=volunteer("mapper"))["model"] == "new-model"


def test_the_maps_hover_measurements_wait_for_the_volunteers_vote():
    """SNR and peak frequency beside the detector join Gravity Spy's public table of
    labels: the hover showed them on every point, gold included."""
    import numpy as np

    from webapp.discovery import selectors
    from webapp.labeling.models import Subject

    run, subjects, _, _ = stored_cluster(n=6)
    services.map_store(set_id=run.embedding_set.pk, xy=np.zeros((6, 2), dtype=np.float32))
    Subject.objects.filter(pk=subjects[0].pk).update(snr=12.84, peak_frequency=88.54)

    def hover(viewer):
        points = selectors.map_points(viewer=viewer)
        at = points["ids"].index(subjects[0].pk)
        return points["snr"][at], points["peak_frequency"][at]

    assert hover(volunteer("newbie")) == (None, None)
    assert hover(with_role("rev2", REVIEWER)) == (12.8, 89)
