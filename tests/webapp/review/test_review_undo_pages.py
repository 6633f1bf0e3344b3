"""Undo on the review pages and in the API: where a reviewer finds it, what each caller
gets (its reviewer, an admin, another reviewer, a volunteer, a visitor, a guessed id, a
replay, a form without its CSRF token), and the 409 when the label moved since."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient
from review_factories import finished_audit, gold_subject, retired_subject, reviewer, volunteer
from review_factories import vote as gold_answer
from webapp_factories import UserFactory

from webapp.accounts.roles import ADMIN
from webapp.labeling.models import VolunteerProfile
from webapp.review import services
from webapp.review.models import LabelChange, Verdict

pytestmark = pytest.mark.django_db


def client_for(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def admin(username: str = "boss"):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get_or_create(name=ADMIN)[0])
    return user


def rita_relabelled() -> Verdict:
    """rita relabelled a retired Blip to Tomte; a second suspect waits in the queue."""
    subject, other = retired_subject("Blip"), retired_subject("Blip")
    first, _ = finished_audit((subject, "Blip", "Tomte"), (other, "Blip", "Whistle"))
    return services.verdict_record(
        suspect_id=first.pk, reviewer=reviewer("rita"), decision="relabel", label="Tomte"
    )


def label_of(verdict: Verdict) -> str:
    verdict.subject.refresh_from_db()
    return verdict.subject.retired_label.name


def test_the_next_suspect_offers_to_undo_the_verdict_just_given_and_lists_them_all() -> None:
    verdict = rita_relabelled()
    rita = client_for(verdict.reviewer)
    page = rita.get(reverse("review:queue"), follow=True).content.decode()
    undo_url = reverse("review:verdict_undo", args=[verdict.pk])
    assert 'data-testid="last-verdict"' in page
    assert f'action="{undo_url}"' in page
    assert "Your last verdict: " + verdict.subject.external_id in page
    assert "csrfmiddlewaretoken" in page.split('data-testid="last-verdict"')[1]
    listed = rita.get(reverse("review:verdicts")).content.decode()
    assert f'data-verdict="{verdict.pk}"' in listed and f'action="{undo_url}"' in listed


def test_undo_from_the_page_puts_the_label_back_and_returns_to_the_suspect() -> None:
    verdict = rita_relabelled()
    answer = client_for(verdict.reviewer).post(
        reverse("review:verdict_undo", args=[verdict.pk]), {"reason": "misclick"}, follow=True
    )
    assert answer.redirect_chain[0][0] == reverse("review:suspect", args=[verdict.suspect_id])
    page = answer.content.decode()
    assert f"{verdict.subject.external_id} is back to Blip" in page
    assert label_of(verdict) == "Blip"
    assert Verdict.objects.get(pk=verdict.pk).undo_reason == "misclick"
    listed = client_for(verdict.reviewer).get(reverse("review:verdicts")).content.decode()
    assert 'data-testid="undone"' in listed and "misclick" in listed


def test_a_double_click_on_undo_regrades_once_and_says_it_is_undone() -> None:
    subject = gold_subject("Blip")
    ann = volunteer("ann", gold_confusion={"Blip": {"Blip": 1}})
    gold_answer(ann, subject, "Blip")
    (suspect,) = finished_audit((subject, "Blip", "Tomte"))
    verdict = services.verdict_record(
        suspect_id=suspect.pk, reviewer=reviewer("rita"), decision="relabel", label="Tomte"
    )
    rita = client_for(verdict.reviewer)
    url = reverse("review:verdict_undo", args=[verdict.pk])
    first, second = rita.post(url, follow=True), rita.post(url, follow=True)
    assert first.status_code == second.status_code == 200
    assert "Undone by rita" in second.content.decode()
    assert LabelChange.objects.filter(cause=LabelChange.Cause.UNDO).count() == 1
    assert VolunteerProfile.objects.get(user=ann).gold_confusion == {"Blip": {"Blip": 1}}


def test_a_refused_undo_says_why_and_moves_nothing() -> None:
    verdict = rita_relabelled()
    (later,) = finished_audit((verdict.subject, "Tomte", "Koi_Fish"))
    services.verdict_record(
        suspect_id=later.pk, reviewer=reviewer("sam"), decision="relabel", label="Koi_Fish"
    )
    answer = client_for(verdict.reviewer).post(
        reverse("review:verdict_undo", args=[verdict.pk]), follow=True
    )
    assert answer.redirect_chain[-1][0] == reverse("review:verdicts")
    assert "Not undone: the label of" in answer.content.decode()
    assert label_of(verdict) == "Koi_Fish"


def test_only_its_reviewer_or_an_admin_may_undo_on_the_page() -> None:
    verdict = rita_relabelled()
    url = reverse("review:verdict_undo", args=[verdict.pk])
    assert client_for(reviewer("sam")).post(url).status_code == 403
    assert client_for(volunteer("vic")).post(url).status_code == 403
    anonymous = Client().post(url)
    assert anonymous.status_code == 302 and "/accounts/login" in anonymous["Location"]
    assert label_of(verdict) == "Tomte"
    assert Verdict.objects.get().undone_at is None

    boss = client_for(admin())
    listed = boss.get(reverse("review:verdicts") + "?all=1").content.decode()
    assert f'data-verdict="{verdict.pk}"' in listed and "<th>Reviewer</th>" in listed
    answer = boss.post(url, {"reason": "rita asked"})
    assert answer.status_code == 302 and answer["Location"].startswith(reverse("review:verdicts"))
    assert label_of(verdict) == "Blip"


def test_a_reviewer_lists_only_their_own_verdicts_even_asking_for_all() -> None:
    verdict = rita_relabelled()
    page = client_for(reviewer("sam")).get(reverse("review:verdicts") + "?all=1")
    assert page.status_code == 200
    assert f'data-verdict="{verdict.pk}"' not in page.content.decode()
    assert client_for(volunteer("vic")).get(reverse("review:verdicts")).status_code == 403


def test_a_guessed_verdict_id_is_not_found() -> None:
    rita = reviewer("rita")
    for missing in (999, 2**70):
        assert client_for(rita).post(f"/review/verdicts/{missing}/undo/").status_code == 404
        api = api_for(rita).post(f"/review/api/verdicts/{missing}/undo/", {}, format="json")
        assert api.status_code == 404


def test_an_undo_without_the_csrf_token_is_refused() -> None:
    verdict = rita_relabelled()
    checked = client_for(verdict.reviewer, enforce_csrf_checks=True)
    assert checked.post(reverse("review:verdict_undo", args=[verdict.pk])).status_code == 403
    assert label_of(verdict) == "Tomte"


def test_the_undo_is_a_post_only() -> None:
    verdict = rita_relabelled()
    url = reverse("review:verdict_undo", args=[verdict.pk])
    assert client_for(verdict.reviewer).get(url).status_code == 405
    assert label_of(verdict) == "Tomte"


def test_the_api_undoes_once_refuses_others_and_answers_409_when_the_label_moved() -> None:
    verdict = rita_relabelled()
    url = reverse("review:api_verdict_undo", args=[verdict.pk])
    assert api_for(reviewer("sam")).post(url, {}, format="json").status_code == 403
    assert api_for(volunteer("vic")).post(url, {}, format="json").status_code == 403
    assert APIClient().post(url, {}, format="json").status_code == 403
    assert label_of(verdict) == "Tomte"

    rita = api_for(verdict.reviewer)
    first = rita.post(url, {"reason": "slip"}, format="json")
    again = rita.post(url, {"reason": "replay"}, format="json")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.json()["undone_by"] == "rita" and first.json()["undone_at"]
    assert LabelChange.objects.filter(cause=LabelChange.Cause.UNDO).count() == 1
    assert label_of(verdict) == "Blip"

    # a new verdict on the reopened suspect, then the label moves under it
    redo = rita.post(
        reverse("review:api_verdict", args=[verdict.suspect_id]),
        {"decision": "relabel", "label": "Whistle"},
        format="json",
    )
    assert redo.status_code == 201
    (later,) = finished_audit((verdict.subject, "Whistle", "Koi_Fish"))
    services.verdict_record(
        suspect_id=later.pk, reviewer=reviewer("sam"), decision="relabel", label="Koi_Fish"
    )
    moved = rita.post(
        reverse("review:api_verdict_undo", args=[redo.json()["id"]]), {}, format="json"
    )
    assert moved.status_code == 409
    assert "has changed since: Whistle -> Koi_Fish" in moved.json()["detail"]
    assert label_of(verdict) == "Koi_Fish"


def messages_of(page: str) -> str:
    return page.split('class="messages"')[1].split("</ul>")[0]


def test_the_saved_message_carries_the_undo_of_the_verdict_just_given() -> None:
    """QA at 1280x800: after a wrong R the page said "Saved: ..." at the top and its Undo was
    ~550 px below the fold. Now the message itself has the Undo (a form POST, CSRF, no JS)."""
    subject, other = retired_subject("Blip"), retired_subject("Blip")
    first, _ = finished_audit((subject, "Blip", "Tomte"), (other, "Blip", "Whistle"))
    rita = client_for(reviewer("rita"))
    page = rita.post(
        reverse("review:verdict", args=[first.pk]),
        {"decision": "relabel", "label": "Tomte"},
        follow=True,
    ).content.decode()
    verdict = Verdict.objects.get()
    said = messages_of(page)
    assert f"Saved: {subject.external_id} relabelled Blip to Tomte." in said
    assert f'action="{reverse("review:verdict_undo", args=[verdict.pk])}"' in said
    assert "csrfmiddlewaretoken" in said and 'data-testid="undo-offer"' in said
    # once shown, the message is gone: the next page offers nothing at the top
    assert (
        'data-testid="undo-offer"'
        not in rita.get(reverse("review:queue"), follow=True).content.decode()
    )


def test_an_undo_names_the_verdict_as_the_list_does_and_says_just_now() -> None:
    """Before: "Undone by rita at ...: the agree on X is taken back" while the list said
    "Light Modulation is right"; the last verdict's line said "0 minutes ago"."""
    subject = retired_subject("Blip")
    (suspect,) = finished_audit((subject, "Blip", "Tomte"))
    verdict = services.verdict_record(
        suspect_id=suspect.pk, reviewer=reviewer("rita"), decision="agree"
    )
    rita = client_for(verdict.reviewer)
    assert "just now" in rita.get(reverse("review:queue"), follow=True).content.decode()
    page = rita.post(
        reverse("review:verdict_undo", args=[verdict.pk]), follow=True
    ).content.decode()
    said = messages_of(page)
    assert (
        f"Undone by rita just now: “Blip is right” on {subject.external_id}. Its label stays Blip."
        in said
    )
    assert "the agree on" not in said
    listed = rita.get(reverse("review:verdicts")).content.decode()
    assert "Blip is right" in listed and "undone by rita <time" in listed
