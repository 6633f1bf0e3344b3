"""What people read: class names without underscores, times as "3 hours ago" (the exact
time on hover), durations in minutes, and /modeling/ in the admins' navigation."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone
from webapp_factories import UserFactory

from webapp.accounts.roles import ADMIN, REVIEWER
from webapp.modeling.models import ModelVersion, TrainingRun

pytestmark = pytest.mark.django_db


def render(text: str, **context) -> str:
    return Template("{% load glitchlab %}" + text).render(Context(context))


def user_in(role, username):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def test_class_names_read_without_underscores():
    assert render("{{ n|class_name }}", n="None_of_the_Above") == "None of the Above"
    assert render("{{ n|class_name }}", n="1080Lines") == "1080Lines"
    assert render("{{ n|class_name }}", n="<b>") == "&lt;b&gt;"  # still escaped


def test_times_read_as_how_long_ago_with_the_exact_time_on_hover():
    moment = timezone.now() - timedelta(hours=3, minutes=5)
    html = render("{{ t|when }}", t=moment)
    assert ">3\xa0hours ago</time>" in html
    assert f'datetime="{moment.isoformat()}"' in html
    assert moment.strftime("%Y-%m-%d %H:%M UTC") in html
    # The dashboard's JSON state holds ISO strings: the same output.
    assert render("{{ t|when }}", t=moment.isoformat()) == html
    assert render("{{ t|when }}", t=None) == ""


def test_a_moment_within_the_last_minute_reads_just_now():
    """timesince said "0 minutes ago" (a verdict's line, an undo's, a run just started)."""
    assert ">just now</time>" in render("{{ t|when }}", t=timezone.now() - timedelta(seconds=20))
    assert ">1\xa0minute ago</time>" in render(
        "{{ t|when }}", t=timezone.now() - timedelta(seconds=70)
    )


def test_durations_read_in_minutes_and_hours():
    assert render("{{ s|seconds }}", s=42.4) == "42 s"
    assert render("{{ s|seconds }}", s=725) == "12 min 5 s"
    assert render("{{ s|seconds }}", s=7380) == "2 h 3 min"


def test_only_admins_see_models_in_the_navigation(client):
    for user, shown in (
        (UserFactory(username="vera"), False),
        (user_in(REVIEWER, "rita"), False),
        (user_in(ADMIN, "ada"), True),
    ):
        client.force_login(user)
        page = client.get(reverse("labeling:field_guide")).content.decode()
        assert ('data-testid="nav-modeling"' in page) is shown
        assert (reverse("modeling:dashboard") in page) is shown


def test_the_dashboard_shows_no_raw_iso_times(client):
    activated = timezone.now() - timedelta(days=2)
    ModelVersion.objects.create(name="m1", is_active=True, activated_at=activated)
    TrainingRun.objects.create(status=TrainingRun.Status.SUCCEEDED)
    client.force_login(user_in(ADMIN, "ada"))
    page = client.get(reverse("modeling:dashboard")).content.decode()
    assert "active since <time" in page and "2\xa0days ago</time>" in page
    text_only = page.replace(f'datetime="{activated.isoformat()}"', "")
    assert activated.isoformat() not in text_only
    assert "just now</time>" in page.split('data-testid="history"')[1]  # each run's start
