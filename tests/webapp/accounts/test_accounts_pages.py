"""Sign-up, login, logout, roles, and what anonymous visitors may see."""

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from page_messages import said
from webapp_factories import SubjectFactory, UserFactory, gold_subject

from webapp.labeling.models import VolunteerProfile

pytestmark = pytest.mark.django_db


def test_the_three_role_groups_exist():
    assert set(Group.objects.values_list("name", flat=True)) >= {"volunteer", "reviewer", "admin"}


def test_sign_up_makes_a_level_one_volunteer_and_logs_in():
    client = Client(enforce_csrf_checks=False)
    response = client.post(
        "/accounts/signup/",
        {"username": "newbie", "password1": "a-Long-pass-123", "password2": "a-Long-pass-123"},
    )
    assert response.status_code == 302 and response.url == "/label/"
    user = User.objects.get(username="newbie")
    assert user.groups.filter(name="volunteer").exists()
    assert VolunteerProfile.objects.get(user=user).level == 1
    assert client.get("/label/").status_code == 200


def test_forms_need_csrf_and_logout_is_post_only():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/signup/", {"username": "x"})
    assert response.status_code == 403
    UserFactory(username="vol")
    client.login(username="vol", password="pw")
    assert client.get("/accounts/logout/").status_code == 405


def test_logging_out_says_so():
    UserFactory(username="vol")
    client = Client()
    client.login(username="vol", password="pw")
    response = client.post("/accounts/logout/", follow=True)
    assert said(response) == [("success", "You are logged out.")]
    assert 'data-testid="logout"' not in response.content.decode()


SESSION_ENDED = "Your session ended: log in again to go on labelling."
VOTES_KEPT = (
    "The vote you pressed is kept and sent once you are back (it counts if you are back "
    "within 30 minutes of its glitch being handed to you)."
)


def test_the_login_page_says_why_it_appeared_when_the_session_ended():
    """The labelling page sends a volunteer whose session ended to ?next=/label/&expired=1:
    the login page appeared with nothing to say why. It says so now, a fixed sentence."""
    client = Client()
    ended = client.get("/accounts/login/?next=/label/&expired=1").content.decode()
    assert SESSION_ENDED in ended and VOTES_KEPT not in ended  # none kept: none promised
    kept = client.get("/accounts/login/?next=/label/&expired=1&kept=1").content.decode()
    assert f"{SESSION_ENDED} {VOTES_KEPT}" in kept
    assert VOTES_KEPT not in client.get("/accounts/login/?kept=1").content.decode()
    assert 'name="next" value="/label/"' in ended
    for query in ("?next=/label/", "?expired=0", "?expired=%3Cb%3Enow%3C/b%3E", ""):
        page = client.get(f"/accounts/login/{query}").content.decode()
        assert "session ended" not in page and "<b>now" not in page


def test_anonymous_visitors_may_look_around_but_not_label():
    subject = SubjectFactory()
    client = Client()
    assert client.get("/").status_code == 200
    assert client.get("/field-guide/").status_code == 200
    assert client.get(f"/subjects/{subject.pk}/").status_code == 200
    response = client.get("/label/")
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_gold_subject_pages_do_not_give_gold_away():
    # Shown like any glitch (a 404 told gold from pool), without role or answer.
    gold = gold_subject("Blip")
    page = Client().get(f"/subjects/{gold.pk}/")
    assert page.status_code == 200
    assert b"Blip" not in page.content and b"gold" not in page.content.lower()


def test_a_volunteer_cannot_reach_the_admin():
    UserFactory(username="vol")
    client = Client()
    client.login(username="vol", password="pw")
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_the_admin_lists_every_model():
    User.objects.create_superuser("root", password="pw")
    client = Client()
    client.login(username="root", password="pw")
    for path in (
        "labeling/glitchclass",
        "labeling/subject",
        "labeling/classification",
        "labeling/volunteerprofile",
        "labeling/glitchclassexample",
        "modeling/modelversion",
        "modeling/prediction",
    ):
        assert client.get(f"/admin/{path}/").status_code == 200, path


def test_the_labelling_page_offers_the_beginner_classes_with_keys():
    UserFactory(username="vol")
    client = Client()
    client.login(username="vol", password="pw")
    html = client.get("/label/").content.decode()
    assert 'data-class="Blip" data-key="b"' in html
    assert 'data-class="Whistle" data-key="w"' in html
    assert 'data-class="None_of_the_Above" data-key="n"' in html
    assert 'data-class="Koi_Fish"' not in html


def test_a_second_sign_up_click_is_told_the_name_was_just_taken(monkeypatch):
    """Two clicks send the form twice: both pass the form's "is the name free" check while
    the first hashes its password, and the second's insert broke the unique constraint (a
    500, though the account existed)."""
    from webapp.accounts.forms import SignUpForm

    is_valid = SignUpForm.is_valid

    def racing(form):  # the name is free; then the first click's insert commits
        valid = is_valid(form)
        User.objects.create_user(username=form.cleaned_data["username"], password="x")
        return valid

    monkeypatch.setattr(SignUpForm, "is_valid", racing)
    client = Client()
    response = client.post(
        "/accounts/signup/",
        {"username": "newbie", "password1": "a-Long-pass-123", "password2": "a-Long-pass-123"},
    )
    assert response.status_code == 200
    assert "This username was taken a moment ago" in response.content.decode()
    assert User.objects.filter(username="newbie").count() == 1
    assert client.get("/label/").status_code == 302  # not logged in as someone's account


def test_one_address_makes_at_most_so_many_accounts_an_hour(settings):
    """Before: 30 sign-ups from one address all succeeded (throwaway accounts by the dozen
    flood Talk past its per-account limits). Another address is not held back, and a form
    that fails its checks does not count."""
    settings.GLITCHLAB_SIGNUPS_PER_HOUR = 3
    password = "a-Long-pass-123"

    def sign_up(name: str, address: str, again: str = password) -> int:
        form = {"username": name, "password1": password, "password2": again}
        return Client(REMOTE_ADDR=address).post("/accounts/signup/", form).status_code

    assert sign_up("typo", "203.0.113.9", again="another-pass-456") == 200  # not made
    assert [sign_up(f"bot{i}", "203.0.113.9") for i in range(4)] == [302, 302, 302, 429]
    assert not User.objects.filter(username="bot3").exists()
    assert sign_up("neighbour", "198.51.100.7") == 302


def test_one_address_posts_the_sign_up_form_at_most_so_many_times_an_hour(settings):
    """Before: a post refused by its checks (mismatched passwords) counted nowhere, so a
    script posted the form without end, each post a look-alike scan of every username on a
    web thread. Every post counts now: three an hour per account the address may make."""
    settings.GLITCHLAB_SIGNUPS_PER_HOUR = 3
    tries = 3 * 3  # services.SIGNUP_TRIES_PER_ACCOUNT per account

    def sign_up(name: str, address: str, again: str) -> int:
        form = {"username": name, "password1": "a-Long-pass-123", "password2": again}
        return Client(REMOTE_ADDR=address).post("/accounts/signup/", form).status_code

    answers = [sign_up(f"n{i}", "203.0.113.9", "another-pass") for i in range(tries + 2)]
    assert answers == [200] * tries + [429, 429]
    refused = Client(REMOTE_ADDR="203.0.113.9").post(
        "/accounts/signup/",
        {"username": "real", "password1": "a-Long-pass-123", "password2": "a-Long-pass-123"},
    )
    assert refused.status_code == 429 and "Too many sign-up tries" in refused.content.decode()
    assert not User.objects.filter(username="real").exists()
    assert sign_up("neighbour", "198.51.100.7", "a-Long-pass-123") == 302


def test_sign_ups_from_new_ipv6_addresses_of_one_64_count_as_one_address(settings):
    """One ordinary IPv6 allocation (a /64) holds 2^64 addresses: counted by address, a
    script made every account from a new one. Another /64 is another client."""
    settings.GLITCHLAB_SIGNUPS_PER_HOUR = 3
    password = "a-Long-pass-123"

    def sign_up(name: str, address: str) -> int:
        form = {"username": name, "password1": password, "password2": password}
        return Client(REMOTE_ADDR=address).post("/accounts/signup/", form).status_code

    made = [sign_up(f"bot{i}", f"2001:db8::{i + 1:x}") for i in range(5)]
    assert made == [302, 302, 302, 429, 429]
    assert not User.objects.filter(username__in=["bot3", "bot4"]).exists()
    assert sign_up("neighbour", "2001:db8:0:1::1") == 302
