"""Two reviewers relabelling two gold glitches at once that the same volunteers answered:
each relabel locks its answerers' profiles in user id order (docs/labelling.md, "Lock
order"), so one waits for the other. Before, they were locked in the order the answers
came back, which differs between the glitches: each relabel held one volunteer's profile
and wanted the other's, a deadlock (one relabel a 500). The relabels are paused where
their locks crossed (tests/webapp/races.py); PostgreSQL only."""

import threading

import pytest
from django.db import connection
from races import in_threads, until_reached_or_waiting
from review_factories import finished_audit, gold_subject, reviewer, volunteer, vote

from webapp.labeling import consensus
from webapp.labeling.models import VolunteerProfile
from webapp.review import services

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs row locks: run with DATABASE_URL=postgres"
    ),
]


def test_two_gold_glitches_relabelled_at_once_both_regrade_their_answerers(seeded, monkeypatch):
    ann, bob = volunteer("ann"), volunteer("bob")
    first, second = gold_subject("Blip"), gold_subject("Blip")
    vote(ann, first, "Blip")
    vote(bob, first, "Blip")
    vote(bob, second, "Blip")  # the other way round: bob answered it first
    vote(ann, second, "Blip")
    suspects = finished_audit((first, "Blip", "Whistle"), (second, "Blip", "Whistle"))
    judges = [reviewer("rita"), reviewer("rob")]

    reached = {judge.pk: threading.Event() for judge in judges}
    paused: set[int] = set()
    confusion_add = consensus.confusion_add
    who = threading.local()

    def pause_after_first_profile(*args, **kwargs):  # called once a profile is locked
        mine = reached[who.judge.pk]
        other = next(event for pk, event in reached.items() if pk != who.judge.pk)
        if who.judge.pk not in paused:
            paused.add(who.judge.pk)
            mine.set()
            until_reached_or_waiting(other)
        return confusion_add(*args, **kwargs)

    monkeypatch.setattr(consensus, "confusion_add", pause_after_first_profile)

    def relabel(judge, suspect):
        def request():
            who.judge = judge
            services.verdict_record(
                suspect_id=suspect.pk, reviewer=judge, decision="relabel", label="Whistle"
            )

        return request

    assert in_threads(*(relabel(j, s) for j, s in zip(judges, suspects, strict=True))) == []
    for user in (ann, bob):
        confusion = VolunteerProfile.objects.get(user=user).gold_confusion
        assert confusion["Whistle"] == {"Blip": 2}  # both answers moved to the new row
