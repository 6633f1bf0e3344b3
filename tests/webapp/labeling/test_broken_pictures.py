"""A glitch whose image files the server finds broken leaves the volunteers' queue, for
everyone, until its files are whole again (Subject.pictures_problem). Before: only the
volunteer whose page failed passed over it; every other volunteer was handed the same
glitch, waited on pictures that never came, and gave up in turn."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient
from webapp_factories import SubjectFactory, UserFactory, handed_out

from webapp.labeling import services
from webapp.labeling.models import Subject

pytestmark = pytest.mark.django_db


def page_gave_up(volunteer, subject) -> int:
    """The labelling page's POST after it could not show `subject`'s pictures."""
    client = APIClient()
    client.force_authenticate(volunteer)
    assignment = services.assignment_issue(volunteer_id=volunteer.pk, subject_id=subject.pk)
    path = f"/api/subjects/{subject.pk}/unseen/"
    return client.post(path, {"assignment": assignment}, format="json").status_code


def next_for(volunteer) -> int | None:
    client = APIClient()
    client.force_authenticate(volunteer)
    answer = client.get("/api/subjects/next/")
    return answer.json()["id"] if answer.status_code == 200 else None


def lose_file(subject: Subject) -> tuple[str, bytes]:
    image = subject.images.get(duration=1.0).image
    with image.storage.open(image.name, "rb") as handle:
        kept = handle.read()
    image.storage.delete(image.name)
    return image.name, kept


def put_back(subject: Subject, name: str, data: bytes) -> None:
    subject.images.get(duration=1.0).image.storage.save(name, ContentFile(data))


def test_a_glitch_broken_on_the_server_goes_to_nobody_else_and_says_why():
    broken, whole = SubjectFactory(priority=5.0), SubjectFactory(priority=1.0)
    first, second = UserFactory(), UserFactory()
    handed_out(first, broken)
    name, _ = lose_file(broken)
    assert page_gave_up(first, broken) == 204
    broken.refresh_from_db()
    assert name in broken.pictures_problem and "missing" in broken.pictures_problem
    assert next_for(second) == whole.pk  # was: broken, the top of everyone's queue
    # its votes and state are kept: still a glitch collecting votes
    assert broken.status == Subject.Status.ACTIVE


def test_a_page_that_says_a_whole_glitch_did_not_load_takes_it_from_nobody():
    """The page's word alone changes nothing: else one account could empty the queue."""
    subject = SubjectFactory()
    first, second = UserFactory(), UserFactory()
    handed_out(first, subject)
    assert page_gave_up(first, subject) == 204
    subject.refresh_from_db()
    assert subject.pictures_problem == ""
    assert next_for(second) == subject.pk


def test_check_pictures_takes_broken_glitches_out_and_puts_mended_ones_back():
    lost, fine = SubjectFactory(priority=5.0), SubjectFactory(priority=1.0)
    retired = SubjectFactory(status=Subject.Status.RETIRED)
    name, kept = lose_file(lost)
    lose_file(retired)
    out = io.StringIO()
    call_command("check_pictures", stdout=out)
    lost.refresh_from_db(), retired.refresh_from_db()
    assert "missing" in lost.pictures_problem and f"broken: glitch {lost.pk}" in out.getvalue()
    assert retired.pictures_problem == ""  # not open: only with --all
    assert "2 glitches checked: 1 broken" in out.getvalue()
    assert next_for(UserFactory()) == fine.pk

    put_back(lost, name, kept)
    out = io.StringIO()
    call_command("check_pictures", stdout=out)
    lost.refresh_from_db()
    assert lost.pictures_problem == "" and f"whole again: glitch {lost.pk}" in out.getvalue()
    assert next_for(UserFactory()) == lost.pk

    call_command("check_pictures", "--all", stdout=io.StringIO())
    retired.refresh_from_db()
    assert "missing" in retired.pictures_problem


def test_the_admin_sees_broken_glitches_and_puts_mended_ones_back(admin_client):
    subject = SubjectFactory()
    name, kept = lose_file(subject)
    handed_out(volunteer := UserFactory(), subject)
    page_gave_up(volunteer, subject)

    dashboard = admin_client.get(reverse("modeling:dashboard")).content.decode()
    assert "1 glitch out of the volunteers' queue" in dashboard
    listing = admin_client.get("/admin/labeling/subject/?pictures=broken").content.decode()
    assert subject.external_id in listing

    put_back(subject, name, kept)
    action = {"action": "check_pictures", "_selected_action": [subject.pk]}
    answer = admin_client.post("/admin/labeling/subject/", action, follow=True)
    assert "1 glitches checked: 0 broken" in answer.content.decode()
    subject.refresh_from_db()
    assert subject.pictures_problem == ""
    assert (
        "out of the volunteers"
        not in admin_client.get(reverse("modeling:dashboard")).content.decode()
    )


def test_a_repeated_word_that_pictures_did_not_load_reads_and_logs_once(caplog, monkeypatch):
    """Before: one assignment let a script say "did not load" 300 times in 17 s, each call
    reading the glitch's four files and writing a warning: the admins' log of broken files
    was buried. Now the first word per volunteer and glitch is checked and logged, repeats
    are answered alike and do nothing."""
    subject, volunteer = SubjectFactory(), UserFactory()
    handed_out(volunteer, subject)
    reads = []
    real = services.selectors.subject_image_problems
    monkeypatch.setattr(
        services.selectors,
        "subject_image_problems",
        lambda **kw: reads.append(kw) or real(**kw),
    )
    with caplog.at_level("WARNING", logger="webapp.labeling.services"):
        answers = [page_gave_up(volunteer, subject) for _ in range(5)]
    assert answers == [204] * 5
    assert len(reads) == 1 and len(caplog.records) == 1
    # another volunteer's word is their own
    handed_out(other := UserFactory(), subject)
    with caplog.at_level("WARNING", logger="webapp.labeling.services"):
        assert page_gave_up(other, subject) == 204
    assert len(reads) == 2


def test_a_glitch_with_broken_pictures_is_on_no_sheet_either():
    """Before: out of the queue, it was still offered on the lasso and cluster sheets (its
    thumbnails broken) and took their votes."""
    from webapp.discovery.selectors import subjects_open_for

    broken, whole = SubjectFactory(), SubjectFactory()
    Subject.objects.filter(pk=broken.pk).update(pictures_problem="a.png: missing")
    expert = UserFactory(profile__level=5)
    assert subjects_open_for(volunteer=expert, subject_ids=[broken.pk, whole.pk]) == [whole.pk]


def test_staff_who_may_only_view_glitches_cannot_run_the_pictures_check(client):
    """Before: a staff account with only view_subject ran it, rewriting pictures_problem
    and reading the files of every glitch selected inside its request."""
    from django.contrib.auth.models import Permission

    subject = SubjectFactory()
    Subject.objects.filter(pk=subject.pk).update(pictures_problem="a.png: missing")
    viewer = UserFactory(username="viewer")
    viewer.is_staff = True
    viewer.save()
    viewer.user_permissions.add(Permission.objects.get(codename="view_subject"))
    client.force_login(viewer)
    action = {"action": "check_pictures", "_selected_action": [subject.pk]}
    client.post("/admin/labeling/subject/", action)
    subject.refresh_from_db()
    assert subject.pictures_problem == "a.png: missing"
