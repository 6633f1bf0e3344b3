"""Review pages: reviewers only, the queue order, what a suspect page shows, the CSV log."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from review_factories import (
    finished_audit,
    gold_subject,
    retired_subject,
    reviewer,
    volunteer,
    vote,
)
from webapp_factories import UserFactory

from webapp.accounts.roles import ADMIN
from webapp.labeling.models import GlitchClass
from webapp.review import selectors, services
from webapp.review.models import AuditRun, Verdict

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_volunteer_cannot_review_and_a_visitor_must_log_in() -> None:
    (suspect,) = finished_audit((retired_subject("Blip"), "Blip", "Tomte"))
    as_volunteer = client_for(volunteer())
    assert as_volunteer.get(reverse("review:queue")).status_code == 403
    assert as_volunteer.get(reverse("review:suspect", args=[suspect.pk])).status_code == 403
    posted = as_volunteer.post(
        reverse("review:verdict", args=[suspect.pk]), {"decision": "relabel", "label": "Tomte"}
    )
    assert posted.status_code == 403
    assert as_volunteer.get(reverse("review:changes_csv")).status_code == 403
    suspect.subject.refresh_from_db()
    assert suspect.subject.retired_label.name == "Blip"
    anonymous = Client().get(reverse("review:queue"))
    assert anonymous.status_code == 302 and "/accounts/login" in anonymous["Location"]


def test_the_queue_goes_by_rank_and_skips_what_is_answered_or_settled() -> None:
    a, b, c = (retired_subject("Blip") for _ in range(3))
    first, second, third = finished_audit(
        (a, "Blip", "Tomte"), (b, "Blip", "Koi_Fish"), (c, "Blip", "Tomte")
    )
    rita, sam = reviewer("rita"), reviewer("sam")
    assert selectors.suspect_next(reviewer=rita) == first
    services.verdict_record(suspect_id=first.pk, reviewer=rita, decision="unsure")
    assert selectors.suspect_next(reviewer=rita) == second
    assert selectors.suspect_next(reviewer=sam) == first  # unsure leaves it open to others
    services.verdict_record(suspect_id=second.pk, reviewer=sam, decision="agree")
    assert selectors.suspect_next(reviewer=rita) == third  # sam confirmed b's label
    # A later audit doubting the label sam confirmed does not ask again.
    (again,) = finished_audit((b, "Blip", "Koi_Fish"))
    assert list(selectors.suspects_open(reviewer=rita, run=again.run)) == []


def test_the_suspect_page_shows_the_evidence() -> None:
    subject = retired_subject("Blip")
    vote(volunteer("ann"), subject, "Tomte", weight={"Tomte": 0.8, "Blip": 0.2})
    vote(volunteer("bob"), subject, "Blip", weight={"Blip": 0.6, "Tomte": 0.4})
    (suspect,) = finished_audit((subject, "Blip", "Tomte"))
    page = client_for(reviewer()).get(reverse("review:queue"), follow=True)
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('class="duration"') == 4
    assert "ann</td><td>Tomte</td><td>0.80" in html
    assert "bob</td><td>Blip</td><td>0.60" in html
    assert 'data-class="Tomte"' in html and 'data-class="Blip"' in html  # the model's top 3
    assert 'data-testid="nav-review"' in html


def test_the_suspect_page_offers_only_accepted_classes_to_relabel_with() -> None:
    GlitchClass.objects.create(name="Reverse_Chirp", status=GlitchClass.Status.PROVISIONAL)
    GlitchClass.objects.create(name="Old_Class", status=GlitchClass.Status.DEPRECATED)
    finished_audit((retired_subject("Blip"), "Blip", "Tomte"))
    html = client_for(reviewer()).get(reverse("review:queue"), follow=True).content.decode()
    assert '<option value="Tomte" selected>' in html
    assert '<option value="Reverse_Chirp"' not in html
    assert '<option value="Old_Class"' not in html


def test_the_suspect_page_shows_the_glitch_metadata() -> None:
    subject = retired_subject("Blip", ifo="L1", snr=12.34, peak_frequency=87.6, duration=0.25)
    finished_audit((subject, "Blip", "Tomte"))
    page = client_for(reviewer()).get(reverse("review:queue"), follow=True)
    html = page.content.decode()
    assert 'data-testid="facts"' in html
    assert "<dt>SNR</dt><dd>12.3</dd>" in html
    assert "<dt>Peak frequency</dt><dd>87.6 Hz</dd>" in html
    assert "<dt>Duration</dt><dd>0.25 s</dd>" in html


def test_a_suspect_without_metadata_shows_no_empty_facts() -> None:
    finished_audit((retired_subject("Blip", ifo=""), "Blip", "Tomte"))
    html = client_for(reviewer()).get(reverse("review:queue"), follow=True).content.decode()
    assert 'data-testid="facts"' not in html


def test_a_verdict_posted_from_the_page_relabels_and_moves_on(tmp_path) -> None:
    a, b = retired_subject("Blip"), gold_subject("Whistle")
    first, second = finished_audit((a, "Blip", "Tomte"), (b, "Whistle", "Blip"))
    client = client_for(reviewer())
    response = client.post(
        reverse("review:verdict", args=[first.pk]),
        {"decision": "relabel", "label": "Tomte", "reason": "hat"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("review:suspect", args=[second.pk])
    a.refresh_from_db()
    assert a.retired_label.name == "Tomte"
    exported = client.get(reverse("review:changes_csv"))
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert [
        (r["external_id"], r["before"], r["after"], r["changed_by"], r["reason"]) for r in rows
    ] == [(a.external_id, "Blip", "Tomte", "rita", "hat")]


def test_another_button_after_going_back_says_the_suspect_was_already_decided() -> None:
    """Before: a reviewer who agreed by mistake, went Back and pressed Relabel was told
    "Saved: ... stays Blip." though nothing was saved. Now: the page says it was not saved,
    and which verdict stands, by whom and when."""
    subject = retired_subject("Blip")
    (suspect,) = finished_audit((subject, "Blip", "Tomte"))
    client = client_for(reviewer())
    url = reverse("review:verdict", args=[suspect.pk])
    client.post(url, {"decision": "agree"}, follow=True)  # its "Saved" is shown and gone
    again = client.post(url, {"decision": "relabel", "label": "Tomte"}, follow=True)
    said = again.content.decode()
    agreed = Verdict.objects.get()
    assert (
        f"Not saved: you already decided {subject.external_id} (in another tab or before): "
        "Blip is right, just now. Undo it first to change it."
    ) in said
    assert "Saved:" not in said.replace("Not saved:", "")
    # the undo it asks for, in the message: the verdict that stands (QA: it said "A verdict
    # once given is not changed" with an Undo of that verdict further down the page)
    message = said.split('class="messages"')[1].split("</ul>")[0]
    assert f'action="{reverse("review:verdict_undo", args=[agreed.pk])}"' in message
    assert "csrfmiddlewaretoken" in message
    subject.refresh_from_db()
    assert subject.retired_label.name == "Blip"


@pytest.mark.parametrize(
    "reason", ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "@SUM(1)", "-2+3"]
)
def test_a_reason_written_as_a_formula_is_exported_as_text(reason) -> None:
    """The change log is opened in spreadsheets by admins; a reviewer's reason that starts
    a formula must arrive as text (a leading apostrophe), not run."""
    subject = retired_subject("Blip")
    (suspect,) = finished_audit((subject, "Blip", "Tomte"))
    client = client_for(reviewer())
    form = {"decision": "relabel", "label": "Tomte", "reason": reason}
    client.post(reverse("review:verdict", args=[suspect.pk]), form)
    exported = client.get(reverse("review:changes_csv")).content.decode()
    (row,) = csv.DictReader(io.StringIO(exported))
    assert row["reason"] == "'" + reason


def test_only_admins_start_another_audit(monkeypatch, django_capture_on_commit_callbacks) -> None:
    """Once an audit has finished (a reviewer may start the first one: see
    test_review_audit_start.py), only admins start more."""
    from tasks import review

    queued = []
    monkeypatch.setattr(review.audit_labels, "delay", queued.append)
    finished_audit()
    assert client_for(reviewer()).post(reverse("review:audit_now")).status_code == 403
    boss = UserFactory(username="boss")
    boss.groups.add(Group.objects.get_or_create(name=ADMIN)[0])
    with django_capture_on_commit_callbacks(execute=True):
        client_for(boss).post(reverse("review:audit_now"))
        client_for(boss).post(reverse("review:audit_now"))  # a second click while one is live
    run = AuditRun.objects.get(status="queued")
    assert (run.status, run.trigger, queued) == ("queued", "admin", [run.pk])


def test_the_admin_exports_the_change_log_as_csv() -> None:
    (suspect,) = finished_audit((retired_subject("Blip"), "Blip", "Tomte"))
    services.verdict_record(
        suspect_id=suspect.pk, reviewer=reviewer(), decision="relabel", label="Tomte"
    )
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    response = client_for(boss).post(
        reverse("admin:review_labelchange_changelist"),
        {"action": "export_csv", "_selected_action": [c.pk for c in selectors.label_changes()]},
    )
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("when,subject_id,external_id,field,before,after,changed_by")
    assert "retired_label,Blip,Tomte,rita,relabel" in lines[1]
