"""A reviewer's relabel shows on the volunteers' pages: the glitch page and My glitches say
the label was changed and from what, not only "Retired: Tomte" beside six Blip votes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from review_factories import finished_audit, retired_subject, reviewer, volunteer, vote

from webapp.labeling.models import GlitchClass, Subject
from webapp.review import services

pytestmark = pytest.mark.django_db

REASON = "<script>alert('pointy')</script> pointy hat"


def relabelled_blip(voters) -> object:
    """A glitch retired as Blip by `voters`, then relabelled Tomte by a reviewer."""
    subject = retired_subject("Blip")
    for user in voters:
        vote(user, subject, "Blip", weight={"Blip": 1.0})
    (suspect,) = finished_audit((subject, "Blip", "Tomte"))
    services.verdict_record(
        suspect_id=suspect.pk, reviewer=reviewer(), decision="relabel", label="Tomte", reason=REASON
    )
    return subject


def test_the_glitch_page_says_a_reviewer_changed_the_label_and_from_what(client) -> None:
    subject = relabelled_blip([volunteer(f"v{i}") for i in range(6)])
    page = client.get(f"/subjects/{subject.pk}/").content.decode()
    assert 'data-testid="label-changed"' in page
    assert "changed from <b>Blip</b> to <b>Tomte</b> by a reviewer" in page
    # reasons are the reviewers' (the change log's CSV), not public: neither shown nor run
    assert "pointy" not in page and "<script>alert" not in page


def test_my_glitches_says_the_consensus_was_changed_from_the_label_they_voted(client) -> None:
    vic = volunteer("vic")
    relabelled_blip([vic])
    client.force_login(vic)
    page = client.get("/me/glitches/").content.decode()
    assert "Tomte" in page and "changed from Blip by a reviewer" in page
    assert "pointy" not in page


def test_my_glitches_reads_the_pages_label_changes_in_one_query(client) -> None:
    vic = volunteer("vic")
    relabelled_blip([vic])
    client.force_login(vic)
    client.get("/me/glitches/")  # warm caches (class table, session)
    with CaptureQueriesContext(connection) as one:
        client.get("/me/glitches/")
    for _ in range(4):
        relabelled_blip([vic])
    with CaptureQueriesContext(connection) as five:
        page = client.get("/me/glitches/").content.decode()
    assert page.count('data-testid="label-changed"') == 5
    assert len(five) == len(one)
    assert sum("review_labelchange" in q["sql"] for q in five.captured_queries) == 1


def test_a_glitch_no_one_relabelled_says_nothing_of_a_change(client) -> None:
    vic = volunteer("vic")
    subject = retired_subject("Blip")
    vote(vic, subject, "Blip", weight={"Blip": 1.0})
    assert "label-changed" not in client.get(f"/subjects/{subject.pk}/").content.decode()
    client.force_login(vic)
    assert "label-changed" not in client.get("/me/glitches/").content.decode()


def test_a_glitch_made_gold_after_the_vote_shows_its_change_on_both_pages(client) -> None:
    """One rule for both pages (review.selectors.label_change_standing): My glitches decided
    by the vote (a gold answer or not) and compared the consensus, the glitch page by the
    glitch's role now, so a glitch made gold after the vote had its gold label's change on
    one page only."""
    vic = volunteer("vic")
    subject = retired_subject("Blip")
    vote(vic, subject, "Blip", weight={"Blip": 1.0})
    subject.role, subject.gold_label = Subject.Role.GOLD, GlitchClass.objects.get(name="Tomte")
    subject.save(update_fields=["role", "gold_label"])
    (suspect,) = finished_audit((subject, "Tomte", "Koi_Fish"))
    services.verdict_record(
        suspect_id=suspect.pk, reviewer=reviewer(), decision="relabel", label="Koi_Fish"
    )

    client.force_login(vic)
    page = client.get(f"/subjects/{subject.pk}/").content.decode()
    assert "changed from <b>Tomte</b> to <b>Koi Fish</b> by a reviewer" in page
    mine = client.get("/me/glitches/").content.decode()
    assert "changed from Tomte to Koi Fish by a reviewer" in mine
