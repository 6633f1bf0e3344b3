"""The field guide ships real Gravity Spy examples: load_field_guide (production) and
seed_demo fill it from the package, every duration of an example glitch is kept, admins add
gold subjects in one click, and simulated examples say so."""

from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from webapp_factories import SubjectFactory, UserFactory, gold_subject, tiny_png

from ml.classes import CANONICAL_CLASSES
from webapp.accounts.roles import ADMIN, REVIEWER
from webapp.labeling.models import GlitchClass, GlitchClassExample, Subject, VolunteerProfile

pytestmark = pytest.mark.django_db

SHIPPED = Path(django_settings.BASE_DIR) / "webapp" / "labeling" / "field_guide_examples"


def seed(**options):
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def user_in(role: str, username: str):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def test_the_package_ships_a_golden_example_of_every_class_small_and_credited():
    classes = [info.name for info in CANONICAL_CLASSES]
    for name in classes:
        golden = list((SHIPPED / name).glob("golden-*.jpg"))
        assert len(golden) == 1, name
    files = list(SHIPPED.glob("*/*.jpg"))
    assert sum(f.stat().st_size for f in files) < 6_000_000  # the repository stays small
    notice = (Path(django_settings.BASE_DIR) / "docs" / "data_notice.md").read_text()
    for credit in ("CC BY 4.0", "10.5281/zenodo.1476551", "064003", "Bahaadini"):
        assert credit in notice


def test_seed_demo_fills_the_guide_from_the_shipped_folder_with_every_duration(settings):
    settings.DEBUG = True
    assert settings.GLITCHLAB_FIELD_GUIDE_DIR == SHIPPED  # no ../shared needed
    out = seed()
    assert "field guide: 70 new example images" in out
    for name in [info.name for info in CANONICAL_CLASSES]:
        assert GlitchClassExample.objects.filter(glitch_class__name=name).exists(), name
    blip = GlitchClassExample.objects.filter(glitch_class__name="Blip")
    assert blip.values("glitch_id").distinct().count() == 3  # golden + two real glitches
    real = blip.exclude(glitch_id__startswith="golden")
    assert sorted(set(real.values_list("duration", flat=True))) == [0.5, 1.0, 2.0, 4.0]
    # One primary image per example glitch (the 1 s view), none simulated.
    assert blip.filter(primary=True).count() == 3
    assert set(real.filter(primary=True).values_list("duration", flat=True)) == {1.0}
    assert not GlitchClassExample.objects.filter(simulated=True).exists()
    assert "field guide: 0 new example images" in seed()  # idempotent


def test_load_field_guide_fills_the_guide_in_production_without_any_account(settings):
    """A compose install (DEBUG off) gets the shipped examples at the web service's start,
    where seed_demo refuses: no account is made, and a second run changes nothing."""
    settings.DEBUG = False
    out = StringIO()
    call_command("load_field_guide", stdout=out)
    assert "field guide: 70 new example images" in out.getvalue()
    assert not get_user_model().objects.exists()
    for name in [info.name for info in CANONICAL_CLASSES]:
        assert GlitchClassExample.objects.filter(glitch_class__name=name).exists(), name
    before = sorted(GlitchClassExample.objects.values_list("pk", "image", "primary", "caption"))
    out = StringIO()
    call_command("load_field_guide", "--dir", str(SHIPPED), stdout=out)
    assert "field guide: 0 new example images" in out.getvalue()
    after = sorted(GlitchClassExample.objects.values_list("pk", "image", "primary", "caption"))
    assert after == before
    assert not get_user_model().objects.exists()


def test_load_field_guide_updates_an_example_seed_demo_stored_before_glitch_ids(
    settings, django_capture_on_commit_callbacks
):
    """An install whose guide seed_demo filled (d0b7088: one view of each glitch, its file
    name as source, no glitch id) showed Blip's H1_0PgqDFdHPl twice after the upgrade: the
    old .png beside the shipped .jpg views (operator's upgrade report, 2026-12)."""
    from django.core.files.base import ContentFile

    settings.DEBUG = False
    blip = GlitchClass.objects.get(name="Blip")
    old = GlitchClassExample(glitch_class=blip, source_name="H1_0PgqDFdHPl_1.0.png", duration=1.0)
    old.caption = "H1_0PgqDFdHPl_1.0"
    old.image.save("Blip_H1_0PgqDFdHPl_1.0.png", ContentFile(tiny_png()), save=False)
    old.save()
    old_file = Path(old.image.path)
    other = GlitchClassExample(glitch_class=blip, source_name="H1_notshipped_1.0.png", duration=1.0)
    other.image.save("Blip_H1_notshipped_1.0.png", ContentFile(tiny_png()), save=False)
    other.save()

    with django_capture_on_commit_callbacks(execute=True):  # (the old file goes on commit)
        call_command("load_field_guide", stdout=StringIO())

    views = GlitchClassExample.objects.filter(glitch_class=blip, glitch_id="H1_0PgqDFdHPl")
    assert sorted(views.values_list("duration", flat=True)) == [0.5, 1.0, 2.0, 4.0]
    one_second = views.get(duration=1.0)
    assert one_second.pk == old.pk and one_second.source_name == "H1_0PgqDFdHPl_1.0.jpg"
    assert one_second.image.name.endswith(".jpg") and one_second.primary
    assert one_second.caption != "H1_0PgqDFdHPl_1.0"  # the shipped example's credit now
    assert not old_file.exists()
    # an old example of a glitch the package does not ship stays as it was
    assert GlitchClassExample.objects.get(pk=other.pk).glitch_id == ""
    shown = [(e.glitch_id or e.source_name, e.duration) for e in blip.examples.all()]
    assert len(shown) == len(set(shown))


def test_the_guide_page_shows_examples_durations_and_the_credit(client, settings):
    settings.DEBUG = True
    seed()
    settings.DEBUG = False
    page = client.get(reverse("labeling:field_guide")).content.decode()
    assert "No example image yet." not in page
    assert "CC BY 4.0" in page and "10.5281/zenodo.1476551" in page
    assert "all durations (4)" in page
    assert "Koi Fish" in page and "Koi_Fish example" not in page  # names without underscores


def test_the_label_page_drawer_gets_one_picture_per_example(client, settings):
    settings.DEBUG = True
    seed()
    settings.DEBUG = False
    client.force_login(UserFactory(username="vera"))
    classes = client.get(reverse("api-classes")).json()
    blip = next(c for c in classes if c["name"] == "Blip")
    assert len(blip["examples"]) == 3  # golden + two glitches, not 9 images
    assert all(e["url"].endswith(".jpg") and e["simulated"] is False for e in blip["examples"])


def test_seed_demo_makes_an_expert_at_the_top_level(settings):
    settings.DEBUG = True
    out = seed(password="pw")
    assert "expert" in out
    expert = VolunteerProfile.objects.get(user__username="expert")
    assert expert.level == len(settings.GLITCHLAB_LEVELS)
    assert VolunteerProfile.objects.get(user__username="volunteer").level == 1
    assert expert.user.groups.filter(name="volunteer").exists() and not expert.user.is_staff


def test_an_admin_adds_a_gold_subject_in_one_click(client):
    subject = gold_subject("Whistle", source="real-set")
    admin = user_in(ADMIN, "ada")
    client.force_login(admin)
    page = client.get(reverse("labeling:subject_detail", args=[subject.pk])).content.decode()
    assert 'data-testid="field-guide-add"' in page
    url = reverse("labeling:subject_field_guide_add", args=[subject.pk])
    response = client.post(url, follow=True)
    assert "Added to the Whistle field guide (4 images)." in response.content.decode()
    added = GlitchClassExample.objects.filter(glitch_class__name="Whistle")
    assert added.count() == 4 and added.filter(primary=True).get().duration == 1.0
    assert not added.filter(simulated=True).exists()
    # The file names and captions do not name the gold subject (volunteers see the guide).
    for example in added:
        assert subject.external_id not in example.image.name + example.caption
        assert f"subject-{subject.pk}" not in example.image.name
    client.post(url)
    assert added.count() == 4  # a second click adds nothing


def test_a_gold_subject_in_the_field_guide_is_no_longer_served_as_gold(client):
    """The guide shows its images byte for byte under its class: a volunteer who hashed the
    guide's pictures read the answer of that gold glitch off its image when the queue
    served it (found by a read-only audit, 2026-12-06)."""
    from webapp.labeling import selectors

    subject = gold_subject("Whistle")
    volunteer = UserFactory(username="vera", profile__level=9)
    assert selectors.subject_next_for_volunteer(volunteer=volunteer) == subject  # gold, served
    client.force_login(user_in(ADMIN, "ada"))
    response = client.post(
        reverse("labeling:subject_field_guide_add", args=[subject.pk]), follow=True
    )
    assert "It no longer serves as gold" in response.content.decode()
    subject.refresh_from_db()
    assert subject.status == Subject.Status.RETIRED and subject.retired_label.name == "Whistle"
    assert subject.is_gold  # its gold label still trains the model
    assert selectors.subject_next_for_volunteer(volunteer=volunteer) is None
    # its page now shows the answer to everyone, as the guide does
    client.logout()
    page = client.get(reverse("labeling:subject_detail", args=[subject.pk])).content.decode()
    assert "Whistle" in page


def test_an_example_from_the_simulator_is_marked_simulated(client, settings):
    settings.GLITCHLAB_SIMULATED_SOURCES = ["demo-gold"]
    subject = gold_subject("Blip", source="demo-gold")
    client.force_login(user_in(ADMIN, "ada"))
    client.post(reverse("labeling:subject_field_guide_add", args=[subject.pk]))
    assert GlitchClassExample.objects.filter(glitch_class__name="Blip", simulated=True).count() == 4
    page = client.get(reverse("labeling:field_guide")).content.decode()
    assert 'data-testid="simulated"' in page
    # The ? drawer on /label/ gets the flag with the picture (label.js captions it).
    classes = client.get(reverse("api-classes")).json()
    (example,) = next(c for c in classes if c["name"] == "Blip")["examples"]  # one primary
    assert example["simulated"] is True and example["url"]


def test_a_gold_file_of_unknown_duration_adds_one_example_not_four(client, tmp_path):
    (tmp_path / "guide" / "Blip").mkdir(parents=True)
    (tmp_path / "guide" / "Blip" / "golden-Blip.png").write_bytes(tiny_png())
    call_command("import_glitches", str(tmp_path / "guide"), "--role", "gold",
                 stdout=StringIO(), stderr=StringIO())  # fmt: skip
    subject = Subject.objects.get(external_id="golden-Blip")  # its file fills every slot
    client.force_login(user_in(ADMIN, "ada"))

    client.post(reverse("labeling:subject_field_guide_add", args=[subject.pk]))

    (example,) = GlitchClassExample.objects.filter(glitch_id=f"subject-{subject.pk}")
    assert example.duration is None and example.primary


def test_only_admins_add_examples_and_only_from_gold(client):
    subject = gold_subject("Blip")
    url = reverse("labeling:subject_field_guide_add", args=[subject.pk])
    for user in (UserFactory(username="vera"), user_in(REVIEWER, "rita")):
        client.force_login(user)
        assert client.post(url).status_code == 403
        page = client.get(reverse("labeling:subject_detail", args=[subject.pk])).content.decode()
        assert 'data-testid="field-guide-add"' not in page
    client.logout()
    assert client.post(url).status_code == 302  # to the login page
    pool = SubjectFactory()
    client.force_login(user_in(ADMIN, "ada"))
    response = client.post(reverse("labeling:subject_field_guide_add", args=[pool.pk]), follow=True)
    assert "only a gold subject" in response.content.decode()
    assert not GlitchClassExample.objects.exists()


def test_an_image_file_that_is_not_an_image_is_refused(tmp_path):
    from django.core.exceptions import ValidationError

    from webapp.labeling.services import glitch_class_example_add_glitch

    good, bad = tmp_path / "g_1.0.png", tmp_path / "g_2.0.png"
    good.write_bytes(tiny_png())
    bad.write_bytes(b"not a png")
    with pytest.raises(ValidationError):
        glitch_class_example_add_glitch(
            glitch_class=GlitchClass.objects.get(name="Blip"),
            glitch_id="g",
            views={1.0: good, 2.0: bad},
            caption="x",
        )
    assert not GlitchClassExample.objects.exists()  # all of a glitch, or nothing


def test_every_class_says_how_to_tell_it_apart_on_the_guide_and_in_the_api(client):
    """Volunteers confuse Blip with Tomte and Koi Fish, Air Compressor with Power Line: each
    canonical class's card says how to tell it from them, as written once in ml.classes."""
    assert all(info.tell_apart for info in CANONICAL_CLASSES)
    page = client.get(reverse("labeling:field_guide")).content.decode()
    assert page.count('data-testid="tell-apart"') == len(CANONICAL_CLASSES)
    blip = next(info for info in CANONICAL_CLASSES if info.name == "Blip")
    assert GlitchClass.objects.get(name="Blip").tell_apart == blip.tell_apart
    assert "Tomte is broader and lower" in page
    client.force_login(UserFactory(username="vera"))
    classes = {c["name"]: c for c in client.get(reverse("api-classes")).json()}
    assert classes["Blip"]["tell_apart"] == blip.tell_apart


def test_a_class_without_a_tell_apart_line_shows_none(client):
    GlitchClass.objects.create(name="Crown", description="arches", order=99)
    page = client.get(reverse("labeling:field_guide")).content.decode()
    card = page[page.index('id="class-Crown"') :]
    card = card[: card.index("</article>")]
    assert "Telling it apart" not in card and "arches" in card
