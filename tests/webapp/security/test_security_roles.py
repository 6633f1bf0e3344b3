"""Roles on every page and API endpoint: anonymous < volunteer < reviewer < admin.

The enumeration test walks the whole URL configuration, so a view added later is checked
too: unless its route is on PUBLIC below, anonymous visitors must be turned away, and
routes under an admin or reviewer prefix must turn away volunteers.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from webapp_factories import SubjectFactory, UserFactory, gold_subject

from webapp.accounts.roles import ADMIN, REVIEWER, VOLUNTEER
from webapp.labeling.models import Classification
from webapp.labeling.services import assignment_issue
from webapp.modeling.models import ModelVersion, TrainingRun

pytestmark = pytest.mark.django_db

# Routes anonymous visitors may use (as written in the URL configuration). Everything else
# needs a login; adding a route here is a security decision, review it as one.
PUBLIC = {
    "",  # home
    "healthz",  # the container health check: says only "ok"
    "field-guide/",
    "talk/",  # read-only, public as Zooniverse's Talk; hidden comments never shown
    "talk/tags/<str:name>/",  # read-only: the glitches a tag is on (same rules)
    "subjects/<int:subject_id>/",  # read-only; gold answers hidden (tested below)
    "accounts/signup/",
    "accounts/login/",
    "accounts/logout/",
    "api/token/",
    "api/classes/",
    "api/subjects/<int:subject_id>/",
    "api/discovery/subjects/<int:subject_id>/similar/",  # read-only, never gold (its tests)
    "api/schema/",
    "api/docs/",  # Swagger UI over the public schema above (the pages hold no data)
    "api/redoc/",  # Redoc, likewise
    "media/<path:path>",
    "admin/login/",
    "admin/logout/",  # logging out nobody is harmless
}
# Route prefixes reserved for a role: volunteers are turned away from all of them.
ROLE_PREFIXES = {"admin/": ADMIN, "modeling/": ADMIN, "review/": REVIEWER}
REFUSED = {302, 401, 403, 405}  # 302 only when it goes to a login page (checked below)


def _routes(resolvers=None, prefix: str = "") -> list[str]:
    routes = []
    for entry in resolvers if resolvers is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            routes += _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            routes.append(prefix + str(entry.pattern))
    return routes


def _concrete(route: str, ids: dict[str, int | str]) -> str | None:
    """A URL for the route with real ids (and names: a str parameter is ids[name] or "x");
    None for admin regex routes we cannot fill."""
    if route.startswith("^") or "(?P<" in route:
        return None
    path = route
    while "<" in path:
        start, end = path.index("<"), path.index(">")
        converter, _, name = path[start + 1 : end].rpartition(":")
        value = str(ids.get(name, 1 if converter in ("int", "") else "x"))
        path = path[:start] + value + path[end + 1 :]
    return "/" + path


def _user(role: str | None):
    user = UserFactory()
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def _client(role: str | None) -> Client:
    client = Client()
    if role:
        client.force_login(_user(role))
    return client


def _refused(response) -> bool:
    if response.status_code == 302:
        return "login" in response["Location"]
    return response.status_code in REFUSED


@pytest.fixture
def ids():
    subject = SubjectFactory()
    version = ModelVersion.objects.create(name="v-roles")
    run = TrainingRun.objects.create()
    return {"subject_id": subject.pk, "version_id": version.pk, "run_id": run.pk}


def test_every_route_not_on_the_public_list_turns_anonymous_visitors_away(ids):
    client = Client()
    checked = []
    for route in _routes():
        url = _concrete(route, ids)
        if route in PUBLIC or url is None:
            continue
        for method in (client.get, client.post):
            response = method(url)
            assert _refused(response), f"anonymous {method.__name__} {url}: {response.status_code}"
        checked.append(route)
    assert "api/classifications/" in checked and "modeling/retrain/" in checked


def test_a_form_posted_once_the_session_ended_leads_to_a_page_after_login(ids):
    """An anonymous POST goes to the login page, whose next= the browser then opens with a
    GET: on every POST-only view (a Talk comment, a sheet, a verdict) that GET met a bare
    405, the form's words lost. Now next= is the form's page, or the view sends a GET there."""
    staff = _user(ADMIN)
    staff.is_staff = staff.is_superuser = True
    staff.save()
    signed_in = Client()
    signed_in.force_login(staff)
    checked = []
    for route in _routes():
        url = _concrete(route, ids)
        if url is None:
            continue
        response = Client().post(url, {"text": "typed while the session ended"})
        if response.status_code != 302 or "login" not in response["Location"]:
            continue  # public, or an API answering 401/403
        after = parse_qs(urlsplit(response["Location"]).query)["next"][0]
        back = signed_in.get(after)
        assert back.status_code != 405, f"POST {url}, then log in: GET {after} is a 405"
        checked.append(route)
    assert {
        "talk/subjects/<int:subject_id>/comments/",
        "talk/tags/<str:name>/batch/",
        "discovery/sheet/<int:batch_id>/",
        "subjects/<int:subject_id>/field-guide/",
        "review/suspects/<int:suspect_id>/verdict/",
        "modeling/retrain/",
    } <= set(checked)


def test_volunteers_are_turned_away_from_reviewer_and_admin_routes(ids):
    volunteer = _client(VOLUNTEER)
    checked = []
    for route in _routes():
        url = _concrete(route, ids)
        if url is None or route in PUBLIC:
            continue
        if not any(route.startswith(prefix) for prefix in ROLE_PREFIXES):
            continue
        for method in (volunteer.get, volunteer.post):
            response = method(url)
            assert _refused(response), f"volunteer {method.__name__} {url}: {response.status_code}"
        checked.append(route)
    assert {"modeling/", "modeling/retrain/", "admin/"} <= set(checked)
    assert not TrainingRun.objects.exclude(pk=ids["run_id"]).exists()


def test_reviewers_cannot_steer_models_or_enter_the_admin_site(ids):
    reviewer = _client(REVIEWER)
    assert reviewer.get("/modeling/").status_code == 403
    assert reviewer.post("/modeling/retrain/").status_code == 403
    assert reviewer.post(f"/modeling/versions/{ids['version_id']}/promote/").status_code == 403
    assert reviewer.post("/modeling/rollback/").status_code == 403
    assert "login" in reviewer.get("/admin/")["Location"]
    assert not ModelVersion.objects.filter(is_active=True).exists()


def test_admins_reach_the_dashboard_and_staff_the_admin_site(ids):
    assert _client(ADMIN).get("/modeling/").status_code == 200
    staff = UserFactory()
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200


def test_anonymous_visitors_can_read_but_not_vote():
    subject = SubjectFactory()
    client = Client()
    assert client.get("/api/classes/").status_code == 200
    assert client.get(f"/api/subjects/{subject.pk}/").status_code == 200
    response = client.post(
        "/api/classifications/", {"subject": subject.pk, "glitch_class": "Blip"}, format="json"
    )
    assert response.status_code in (401, 403)
    assert client.get("/api/subjects/next/").status_code in (401, 403)
    assert not Classification.objects.exists()


def test_gold_answers_are_shown_to_reviewers_only():
    gold = gold_subject("Whistle")
    # A gold page is a page like any other (a 404 told gold from pool), without the answer.
    for client in (Client(), _client(VOLUNTEER)):
        page = client.get(f"/subjects/{gold.pk}/")
        assert page.status_code == 200 and b"Whistle" not in page.content
    assert _client(VOLUNTEER).get(f"/api/subjects/{gold.pk}/").json()["gold_label"] is None
    assert _client(REVIEWER).get(f"/api/subjects/{gold.pk}/").json()["gold_label"] == "Whistle"
    assert _client(REVIEWER).get(f"/subjects/{gold.pk}/").status_code == 200


def test_a_volunteer_cannot_vote_in_someone_elses_name():
    subject = SubjectFactory()
    victim, voter = _user(VOLUNTEER), _user(VOLUNTEER)
    client = Client()
    client.force_login(voter)
    assignment = assignment_issue(volunteer_id=voter.pk, subject_id=subject.pk)
    body = {
        "subject": subject.pk,
        "assignment": assignment,
        "glitch_class": "Blip",
        "volunteer": victim.pk,
    }
    assert (
        client.post("/api/classifications/", body, content_type="application/json").status_code
        == 201
    )
    assert not Classification.objects.filter(volunteer=victim).exists()


def test_media_cannot_leave_the_media_folder():
    for url in ("/media/../webapp/settings.py", "/media/%2e%2e/%2e%2e/webapp/settings.py"):
        response = Client().get(url)
        assert response.status_code in (400, 404) and b"SECRET_KEY" not in response.content


# Routes that take a POST without the CSRF token, each for a reason; adding one is a
# security decision, review it as one.
CSRF_FREE: dict[str, str] = {}


def test_every_post_without_the_csrf_token_is_refused_even_for_an_admin(ids):
    """The whole URL configuration, POSTed as a logged-in admin (session cookie, no token),
    as another site's form would: a route that a later csrf_exempt, or an API
    authentication class that skips the check, opened would fail here."""
    staff = _user(ADMIN)
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    checked = []
    # a real action: "x" is refused (403) with or without the token, so it would prove nothing
    filled = {**ids, "action": "accept"}
    for route in _routes():
        url = _concrete(route, filled)
        if url is None or route in CSRF_FREE:
            continue
        response = client.post(url, {"glitch_class": "Blip", "subject": ids["subject_id"]})
        if response.status_code == 405:
            continue  # takes no POST at all
        # an admin with every role: a 403 here is the missing token (the styled 403 page)
        assert response.status_code == 403, f"POST {url} without the token: {response.status_code}"
        checked.append(route)
    assert {"api/classifications/", "modeling/retrain/", "accounts/logout/"} <= set(checked)
    assert not TrainingRun.objects.exclude(pk=ids["run_id"]).exists()
    assert not Classification.objects.exists()
