"""A proposed class becomes provisional (reviewer), accepted (admin: registry, key, gold
examples) and deprecated (admin: labels remapped); every step says who and when."""

import json

import pytest
from discovery_factories import volunteer
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from page_messages import said

from webapp.discovery import selectors, services
from webapp.discovery.models import ClassProposal, ProposalVote
from webapp.labeling import services as labeling
from webapp.labeling.models import Classification, GlitchClass, Subject
from webapp.modeling.selectors import training_data
from webapp.review.models import LabelChange

pytestmark = pytest.mark.django_db


def proposed_from_batch(subjects, name="Reverse_Chirp"):
    vol = volunteer("ann")
    batch = services.batch_from_cluster(volunteer=vol)
    services.batch_submit(
        volunteer=vol,
        batch_id=batch.pk,
        selected_ids=batch.subject_ids,
        label=services.BatchLabel(new_name=name, new_description="a chirp run backwards"),
    )
    return ClassProposal.objects.get(name=name), vol


def agree(proposal, names, selected=None):
    """More volunteers give their cluster sheet (or the `selected` part of it) the class."""
    for name in names:
        vol = volunteer(name)
        batch = services.batch_from_cluster(volunteer=vol)
        services.batch_submit(
            volunteer=vol,
            batch_id=batch.pk,
            selected_ids=batch.subject_ids if selected is None else selected,
            label=services.BatchLabel(proposal_id=proposal.pk),
        )


def test_the_full_lifecycle_is_recorded(cluster, reviewer, admin):
    _, subjects = cluster
    proposal, vol = proposed_from_batch(subjects)
    agree(proposal, ["bea", "cy"])  # three volunteers in all: their glitches become gold

    services.class_proposal_make_provisional(actor=reviewer, proposal_id=proposal.pk)
    provisional = GlitchClass.objects.get(name="Reverse_Chirp")
    assert provisional.status == "provisional" and provisional.key is None
    assert "proposal:" in [c.value[:9] for c in selectors.batch_choices(volunteer=vol)]

    services.class_proposal_accept(actor=admin, proposal_id=proposal.pk)
    accepted = GlitchClass.objects.get(name="Reverse_Chirp")
    assert accepted.status == "active" and accepted.key
    gold = Subject.objects.filter(gold_label=accepted, role="gold")
    assert gold.count() == len(subjects)
    assert accepted.examples.count() == 1
    train, _ = training_data()  # the next retrain sees the new class
    assert "Reverse_Chirp" in {f.label for f in train}

    services.class_proposal_deprecate(actor=admin, proposal_id=proposal.pk, remap_to="Chirp")
    assert GlitchClass.objects.get(name="Reverse_Chirp").status == "deprecated"
    assert not Subject.objects.filter(gold_label=accepted).exists()
    assert Subject.objects.filter(gold_label__name="Chirp").count() == len(subjects)

    events = list(ClassProposal.objects.get(pk=proposal.pk).events.all())
    assert [e.status for e in events] == ["proposed", "provisional", "accepted", "deprecated"]
    assert [e.actor for e in events] == [vol, reviewer, admin, admin]
    assert all(e.at is not None for e in events)


def test_one_volunteers_batch_alone_seeds_no_gold(cluster, reviewer, admin):
    _, subjects = cluster
    proposal, _ = proposed_from_batch(subjects)
    services.class_proposal_make_provisional(actor=reviewer, proposal_id=proposal.pk)
    services.class_proposal_accept(actor=admin, proposal_id=proposal.pk)
    accepted = GlitchClass.objects.get(name="Reverse_Chirp")
    assert accepted.status == "active"
    assert not Subject.objects.filter(gold_label=accepted).exists()
    assert not Subject.objects.filter(pk__in=[s.pk for s in subjects], role="gold").exists()
    assert accepted.examples.count() == 0


def test_gold_needs_enough_distinct_volunteers_who_are_most_of_the_voters(
    cluster, reviewer, admin, settings
):
    settings.GLITCHLAB_NEW_CLASS_GOLD_MIN_VOLUNTEERS = 3
    _, subjects = cluster
    first, second, disputed = subjects[0].pk, subjects[1].pk, subjects[2].pk
    proposal, _ = proposed_from_batch(subjects)  # ann: all six
    agree(proposal, ["bea"], selected=[first, second, disputed])
    agree(proposal, ["cy"], selected=[first, disputed])  # only `first` reaches three
    for name in ("dan", "eve", "fay"):  # `disputed`: three for the class, three Blips
        vol = volunteer(name)
        labeling_vote(vol, disputed, "Blip")
    services.class_proposal_make_provisional(actor=reviewer, proposal_id=proposal.pk)
    services.class_proposal_accept(actor=admin, proposal_id=proposal.pk)
    gold = Subject.objects.filter(gold_label__name="Reverse_Chirp", role="gold")
    assert list(gold.values_list("pk", flat=True)) == [first]
    assert Subject.objects.get(pk=second).role == "pool"
    assert Subject.objects.get(pk=disputed).role == "pool"


def test_a_glitch_the_crowd_retired_while_sheets_were_open_stays_the_crowds(
    cluster, reviewer, admin, settings
):
    """Three sheets opened, then the crowd retires a glitch of them as Blip (4 votes): the
    three proposal votes sent after are late, so accepting the class leaves the glitch
    the crowd's, not gold of the new class (3 of 7 voters chose it)."""
    settings.GLITCHLAB_NEW_CLASS_GOLD_MIN_VOLUNTEERS = 3
    _, subjects = cluster
    target = subjects[0].pk
    sheets = [(vol, services.batch_from_cluster(volunteer=vol)) for vol in map(volunteer, "abc")]
    for name in ("dan", "eve", "fay", "gus"):
        labeling_vote(volunteer(name), target, "Blip")
    blip = GlitchClass.objects.get(name="Blip")
    Subject.objects.filter(pk=target).update(status=Subject.Status.RETIRED, retired_label=blip)
    proposal = services.class_proposal_create(
        volunteer=sheets[0][0], name="Reverse_Chirp", description="a chirp run backwards"
    )
    for vol, batch in sheets:
        services.batch_submit(
            volunteer=vol,
            batch_id=batch.pk,
            selected_ids=[target],
            label=services.BatchLabel(proposal_id=proposal.pk),
        )
    services.class_proposal_make_provisional(actor=reviewer, proposal_id=proposal.pk)
    services.class_proposal_accept(actor=admin, proposal_id=proposal.pk)
    subject = Subject.objects.get(pk=target)
    assert (subject.role, subject.retired_label, subject.gold_label) == ("pool", blip, None)
    assert subject.n_votes == 4
    assert not ProposalVote.objects.filter(subject_id=target).exists()


def test_proposal_votes_that_came_late_or_on_a_retired_glitch_seed_no_gold(
    cluster, reviewer, admin, settings
):
    """Proposal votes stored before late ones were dropped count only where their vote
    counted in consensus (not on a glitch retired, then reopened by a reviewer, whose late
    votes stay late), and never over a label the crowd retired the glitch with."""
    settings.GLITCHLAB_NEW_CLASS_GOLD_MIN_VOLUNTEERS = 3
    _, subjects = cluster
    late, retired = subjects[0].pk, subjects[1].pk
    proposal, _ = proposed_from_batch(subjects)  # ann: all six, in time
    agree(proposal, ["bea", "cy"], selected=[late, retired])
    Classification.objects.filter(subject_id=late).exclude(volunteer__username="ann").update(
        after_retirement=True
    )
    labeling.subject_consensus_recompute(subject=Subject.objects.get(pk=late))
    blip = GlitchClass.objects.get(name="Blip")
    Subject.objects.filter(pk=retired).update(status=Subject.Status.RETIRED, retired_label=blip)
    services.class_proposal_make_provisional(actor=reviewer, proposal_id=proposal.pk)
    services.class_proposal_accept(actor=admin, proposal_id=proposal.pk)
    assert Subject.objects.get(pk=late).role == "pool"
    assert Subject.objects.get(pk=retired).role == "pool"
    assert Subject.objects.get(pk=retired).retired_label == blip


def labeling_vote(vol, subject_id, name):
    labeling.classification_create(volunteer=vol, subject_id=subject_id, class_name=name)


def test_deprecation_moves_votes_to_the_other_class(cluster, reviewer, admin):
    _, subjects = cluster
    proposal, _ = proposed_from_batch(subjects)
    services.class_proposal_make_provisional(actor=reviewer, proposal_id=proposal.pk)
    services.class_proposal_accept(actor=admin, proposal_id=proposal.pk)
    extra = Subject.objects.create(external_id="x1", source="t")
    voter = volunteer("bob", level=5)
    new_class = GlitchClass.objects.get(name="Reverse_Chirp")
    Classification.objects.create(volunteer=voter, subject=extra, glitch_class=new_class)
    services.class_proposal_deprecate(actor=admin, proposal_id=proposal.pk, remap_to="Blip")
    assert Classification.objects.get(subject=extra).glitch_class.name == "Blip"


def test_a_deprecation_records_what_it_moved_and_the_export_says_remapped(cluster, reviewer, admin):
    """Before: the remap rewrote votes, gold and retired labels in place with no trace, and
    the export called the volunteer-seeded gold, now Chirp, an expert's "gold" (found by a
    reviewer reading the exports). Now each label moved is a LabelChange (cause remap), each
    vote keeps the class its volunteer chose, and the export says "remapped" and from what."""
    _, subjects = cluster
    proposal, _ = proposed_from_batch(subjects)
    agree(proposal, ["bea", "cy"])  # three volunteers: their glitches become gold
    services.class_proposal_make_provisional(actor=reviewer, proposal_id=proposal.pk)
    services.class_proposal_accept(actor=admin, proposal_id=proposal.pk)
    reverse_chirp = GlitchClass.objects.get(name="Reverse_Chirp")
    crowd = Subject.objects.create(
        external_id="x1", source="t", status="retired", retired_label=reverse_chirp
    )
    Classification.objects.create(
        volunteer=volunteer("bob", level=5), subject=crowd, glitch_class=reverse_chirp
    )

    services.class_proposal_deprecate(actor=admin, proposal_id=proposal.pk, remap_to="Chirp")

    seeded = subjects[0].pk
    changes = {
        (c.subject_id, c.field): (c.cause, c.before, c.after, c.changed_by)
        for c in LabelChange.objects.all()
    }
    remap = ("remap", "Reverse_Chirp", "Chirp", admin)
    assert changes[(seeded, "gold_label")] == changes[(seeded, "retired_label")] == remap
    assert changes[(crowd.pk, "retired_label")] == remap
    assert len(changes) == 2 * len(subjects) + 1
    vote = Classification.objects.get(subject=crowd)
    assert (vote.glitch_class.name, vote.remapped_from.name) == ("Chirp", "Reverse_Chirp")

    client = Client()
    client.force_login(reviewer)
    response = client.get(reverse("api-labels-json"))
    rows = {r["subject_id"]: r for r in json.loads(b"".join(response.streaming_content))}
    for pk in (seeded, crowd.pk):
        row = rows[pk]
        assert (row["label"], row["label_source"], row["label_before_review"]) == (
            "Chirp",
            "remapped",
            "Reverse_Chirp",
        )


def test_only_reviewers_open_and_only_admins_accept(cluster, reviewer):
    _, subjects = cluster
    proposal, vol = proposed_from_batch(subjects)
    with pytest.raises(PermissionDenied):
        services.class_proposal_make_provisional(actor=vol, proposal_id=proposal.pk)
    services.class_proposal_make_provisional(actor=reviewer, proposal_id=proposal.pk)
    with pytest.raises(PermissionDenied):
        services.class_proposal_accept(actor=reviewer, proposal_id=proposal.pk)


def test_the_proposal_buttons_refuse_whoever_may_not_press_them(cluster, reviewer):
    """The same rules over HTTP, as a volunteer would try them by hand-made forms: every
    action they may not take is a 403 and leaves the proposal as it was."""
    _, subjects = cluster
    proposal, vol = proposed_from_batch(subjects)
    client = Client()

    def press(user, action, **form):
        client.force_login(user)
        return client.post(f"/discovery/proposals/{proposal.pk}/{action}/", form).status_code

    for action in ("provisional", "accept", "reject", "deprecate", "no-such-action"):
        assert press(vol, action, remap_to="Blip", note="x") == 403
    assert press(reviewer, "accept") == 403
    proposal.refresh_from_db()
    assert proposal.status == ClassProposal.Status.PROPOSED
    assert press(reviewer, "provisional") == 302
    proposal.refresh_from_db()
    assert proposal.status == ClassProposal.Status.PROVISIONAL


def test_names_must_be_new_and_well_formed():
    vol = volunteer("ann")
    for bad in ("blip", "Blip", "X", "Reverse Chirp!"):
        with pytest.raises(ValidationError):
            services.class_proposal_create(volunteer=vol, name=bad, description="d")


@pytest.mark.parametrize(
    "name, taken",
    [
        ("Koi_Fish_", "Koi_Fish"),
        ("Koi__Fish", "Koi_Fish"),
        ("KoiFish", "Koi_Fish"),
        ("KOI_FISH", "Koi_Fish"),
        ("NOTA", "None_of_the_Above"),
        ("Noa", "None_of_the_Above"),
        ("NoneOfTheAbove", "None_of_the_Above"),
        ("ReverseChirp", "Reverse_Chirp"),  # another proposal's name
    ],
)
def test_a_name_that_is_a_class_spelled_another_way_is_refused_naming_it(name, taken):
    """ml.data's reader folds a folder named so into the class on re-import (spelled_as:
    case, separators and Gravity Spy's nicknames), so the new class would vanish into it."""
    services.class_proposal_create(
        volunteer=volunteer("bob"), name="Reverse_Chirp", description="a chirp run backwards"
    )
    with pytest.raises(ValidationError) as refused:
        services.class_proposal_create(volunteer=volunteer("ann"), name=name, description="d")
    assert taken in refused.value.message_dict["name"][0]
    assert ClassProposal.objects.count() == 1


@pytest.mark.parametrize("name", ["Reverse_Chirp_", "Reverse__Chirp"])
def test_a_new_name_with_a_trailing_or_doubled_underscore_is_refused(name):
    with pytest.raises(ValidationError) as refused:
        services.class_proposal_create(volunteer=volunteer("ann"), name=name, description="d")
    assert "_" in refused.value.message_dict["name"][0]
    services.class_proposal_create(
        volunteer=volunteer("ann"), name="Reverse_Chirp", description="d"
    )


def test_a_second_click_on_a_proposal_button_is_told_it_is_done_and_records_nothing(
    cluster, reviewer, admin
):
    """A double click, a second tab, or another reviewer first: the page says the proposal is
    already there, not a failure, and the history keeps one event for the step."""
    _, subjects = cluster
    proposal, _ = proposed_from_batch(subjects)
    client = Client()

    def press(user, action):
        client.force_login(user)
        return said(client.post(f"/discovery/proposals/{proposal.pk}/{action}/", follow=True))

    assert press(reviewer, "provisional") == [("success", "Reverse_Chirp is now provisional")]
    assert press(reviewer, "provisional") == [("info", "Reverse_Chirp is already provisional.")]
    assert press(admin, "accept") == [("success", "Reverse_Chirp is now accepted")]
    assert press(admin, "accept") == [("info", "Reverse_Chirp is already accepted.")]
    assert press(reviewer, "reject") == [("error", "Not done: Reverse_Chirp is accepted.")]
    proposal.refresh_from_db()
    assert proposal.status == ClassProposal.Status.ACCEPTED
    steps = list(proposal.events.values_list("status", flat=True))
    assert sorted(steps) == sorted(["proposed", "provisional", "accepted"])


def test_one_account_cannot_reserve_class_names_by_the_dozen(settings, reviewer):
    """A name once proposed is taken for good, even rejected: before, one level-2 account
    could propose any number of plausible names and keep real proposals from using them."""
    settings.GLITCHLAB_PROPOSALS_WAITING_MAX = 2
    squatter = volunteer("sam")
    for name in ("Reverse_Chirp", "Double_Whistle"):
        services.class_proposal_create(volunteer=squatter, name=name, description="d")
    with pytest.raises(ValidationError) as refused:
        services.class_proposal_create(volunteer=squatter, name="Fat_Blip", description="d")
    assert "2 proposals waiting for a reviewer" in refused.value.message_dict["name"][0]
    first = ClassProposal.objects.get(name="Reverse_Chirp")
    services.class_proposal_reject(actor=reviewer, proposal_id=first.pk)
    services.class_proposal_create(volunteer=squatter, name="Fat_Blip", description="d")
    services.class_proposal_create(volunteer=volunteer("ann"), name="Thin_Blip", description="d")
