"""A refused cluster-sheet submit comes back as it was sent: before, it redirected to a fresh
sheet, every glitch ticked again and the new class's name and description gone, so the
volunteer's next submit labelled the odd ones out too. The same after a session that ended
while the sheet was worked on."""

import re

import pytest
from discovery_factories import volunteer
from django.contrib.auth.models import User
from django.test import Client

from webapp.discovery.models import ClassProposal
from webapp.labeling.models import Classification

pytestmark = pytest.mark.django_db

SHEET_KEPT = "discovery_sheet_kept"  # webapp.discovery.sheet_kept.KEY, the session's key
DESCRIPTION = "Two arches at 30 Hz,\r\na long careful description I typed."


def signed_in(name: str = "ann") -> Client:
    client = Client()
    client.force_login(volunteer(name))
    return client


def ticked(html: str) -> list[int]:
    boxes = re.findall(r'<input type="checkbox" name="selected" value="(\d+)"( checked)?', html)
    assert boxes, "no glitch on the sheet"
    return [int(value) for value, checked in boxes if checked]


def chosen(html: str) -> list[str]:
    return re.findall(r'<input type="radio" name="choice" value="([^"]+)" checked', html)


def error_beside(html: str, field: str) -> str:
    found = re.search(rf'data-testid="error-{field}">([^<]*)<', html)
    return found.group(1) if found else ""


def test_a_refused_new_class_name_comes_back_with_the_ticks_and_words_sent(cluster):
    client = signed_in()
    batch = client.get("/discovery/sheet/").context["batch"]
    kept = batch.subject_ids[:2] + batch.subject_ids[4:]  # two odd ones out
    form = {
        "selected": kept,
        "choice": "new",
        "new_name": "double arch",
        "new_description": DESCRIPTION,
    }
    page = client.post(f"/discovery/sheet/{batch.pk}/", form)
    html = page.content.decode()
    assert page.status_code == 200  # the form again, as signing up does
    assert ticked(html) == kept
    assert f'<b id="sheet-count" data-testid="sheet-count">{len(kept)}</b>' in html
    assert chosen(html) == ["new"]
    assert '<div id="new-class" class="form">' in html  # shown, not hidden
    assert 'value="double arch"' in html
    assert f">\n{DESCRIPTION}</textarea>" in html  # (a first new line of the box is the markup's)
    assert "starting with a capital" in error_beside(html, "new_name")
    assert 'aria-invalid="true" aria-describedby="new_name-error"' in html
    assert "Not saved" in html
    assert not ClassProposal.objects.exists() and not Classification.objects.exists()

    form["new_name"] = "Double_Arch"  # put right, the same sheet goes through
    client.post(f"/discovery/sheet/{batch.pk}/", form)
    votes = Classification.objects.values_list("subject_id", flat=True)
    assert sorted(votes) == sorted(kept)
    assert ClassProposal.objects.get().description == DESCRIPTION.replace("\r\n", "\n")


def test_nothing_ticked_comes_back_unticked_with_the_label_chosen(cluster):
    client = signed_in()
    batch = client.get("/discovery/sheet/").context["batch"]
    page = client.post(f"/discovery/sheet/{batch.pk}/", {"choice": "Blip"})
    html = page.content.decode()
    assert page.status_code == 200
    assert ticked(html) == []  # not all ticked again: the next enter labelled them all
    assert chosen(html) == ["Blip"]
    assert error_beside(html, "selected") == "select at least one glitch"
    assert '<div id="new-class" class="form" hidden>' in html
    assert not Classification.objects.exists()


def test_no_label_chosen_is_said_beside_the_labels(cluster):
    client = signed_in()
    batch = client.get("/discovery/sheet/").context["batch"]
    page = client.post(f"/discovery/sheet/{batch.pk}/", {"selected": batch.subject_ids[:1]})
    html = page.content.decode()
    assert ticked(html) == batch.subject_ids[:1]
    assert error_beside(html, "choice") == "choose a class"
    assert chosen(html) == []


def test_a_new_class_without_a_name_is_said_beside_the_name(cluster):
    client = signed_in()
    batch = client.get("/discovery/sheet/").context["batch"]
    form = {"selected": batch.subject_ids, "choice": "new", "new_description": "arches"}
    html = client.post(f"/discovery/sheet/{batch.pk}/", form).content.decode()
    assert error_beside(html, "new_name").startswith("name the new class")
    assert "arches</textarea>" in html
    assert not ClassProposal.objects.exists()


def test_a_sheet_sent_after_the_session_ended_waits_for_the_volunteer_after_login(cluster):
    """The post went to the login page, and the sheet after it was a fresh one."""
    client = signed_in()
    batch = client.get("/discovery/sheet/").context["batch"]
    client.logout()  # the session ended while the sheet was worked on
    kept = batch.subject_ids[1:]
    form = {"selected": kept, "choice": "new", "new_name": "Double_Arch", "new_description": "x"}
    answer = client.post(f"/discovery/sheet/{batch.pk}/", form)
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")
    assert not ClassProposal.objects.exists()

    # a shared computer: the next login on that browser is not ann's
    client.post("/accounts/login/", {"username": volunteer("bea").username, "password": "pw"})
    assert "Double_Arch" not in client.get("/discovery/sheet/").content.decode()  # another batch
    client.logout()

    client.post(f"/discovery/sheet/{batch.pk}/", form)  # ann's again, and she logs in
    assert answer["Location"] == "/accounts/login/?next=/discovery/sheet/"
    client.post(
        answer["Location"], {"username": "ann", "password": "pw", "next": "/discovery/sheet/"}
    )
    page = client.get("/discovery/sheet/")
    html = page.content.decode()
    assert ticked(html) == kept and chosen(html) == ["new"]
    assert 'value="Double_Arch"' in html and "x</textarea>" in html
    assert "submit it again" in html
    assert "Double_Arch" not in client.get("/discovery/sheet/").content.decode()  # said once


def test_another_login_on_that_browser_does_not_carry_the_kept_sheet_in_its_session(cluster):
    """Before: the sheet ann sent after her session ended stayed in the session of whoever
    logged in next on that browser (Django's login keeps the session's data), only hidden
    by its batch not being theirs, until they opened the sheet. Now any login but ann's on
    her way back to the sheet drops it, as a Talk draft is dropped (accounts.kept_posts)."""
    client = signed_in()
    batch = client.get("/discovery/sheet/").context["batch"]
    client.logout()
    form = {"selected": batch.subject_ids[1:], "choice": "new", "new_name": "Double_Arch"}
    bea = volunteer("bea").username
    for next_url in ("", "/label/", "/discovery/sheet/"):  # the sheet's page too: not hers
        client.post(f"/discovery/sheet/{batch.pk}/", form)
        assert client.session[SHEET_KEPT]["new_name"] == "Double_Arch"  # kept for the login
        client.post("/accounts/login/", {"username": bea, "password": "pw", "next": next_url})
        assert client.session["_auth_user_id"] == str(User.objects.get(username=bea).pk)
        assert SHEET_KEPT not in client.session, next_url
        assert "Double_Arch" not in str(dict(client.session))
        client.logout()

    client.post(f"/discovery/sheet/{batch.pk}/", form)  # ann's way back still finds it
    client.post("/accounts/login/", {"username": "ann", "password": "pw", "next": "/label/"})
    assert SHEET_KEPT not in client.session  # ann, but to another page: dropped too
    client.logout()
    client.post(f"/discovery/sheet/{batch.pk}/", form)
    client.post(
        "/accounts/login/", {"username": "ann", "password": "pw", "next": "/discovery/sheet/"}
    )
    assert 'value="Double_Arch"' in client.get("/discovery/sheet/").content.decode()
