"""load_field_guide retires the gold glitches the field guide shows: gold imported before the
guide held its example kept serving as gold while the guide showed its answer to anyone."""

from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from webapp_factories import UserFactory

from webapp.labeling import selectors
from webapp.labeling.models import Subject

pytestmark = pytest.mark.django_db

SHIPPED = Path(django_settings.BASE_DIR) / "webapp" / "labeling" / "field_guide_examples"
SHIPPED_ID = "H1_0PgqDFdHPl"  # a real Blip the shipped guide shows under its id
SHIPPED_WHISTLE = "L1_EVwqC7BNFr"  # a real Whistle the shipped guide shows


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue()


@pytest.fixture
def gold_imported_before_the_guide(tmp_path):
    """Three gold glitches imported while the guide was empty: a glitch under a shipped
    example's id (other pictures: only its id tells), a shipped example's pictures under
    another id (only its image tells), and a glitch the guide does not show."""
    from ml.data import load_samples
    from ml.synth import generate

    generate(tmp_path / "made", 2, classes=["Blip"], style="crop", seed=13)
    named, unrelated = load_samples(tmp_path / "made").samples
    (shown,) = [s for s in load_samples(SHIPPED).samples if s.id == SHIPPED_WHISTLE]
    root = tmp_path / "gold"
    copies = [
        (named.views(), "Blip", SHIPPED_ID),
        (shown.views(), "Whistle", "L1_renamed0000"),
        (unrelated.views(), "Blip", "H1_unrelated00"),
    ]
    for views, label, glitch_id in copies:
        (root / label).mkdir(parents=True, exist_ok=True)
        for duration, path in views.items():
            (root / label / f"{glitch_id}_{duration}{path.suffix}").write_bytes(path.read_bytes())
    run("import_glitches", str(root), "--role", "gold", "--source", "gravityspy-real")
    subjects = {s.external_id: s for s in Subject.objects.all()}
    assert all(s.is_gold and s.status == Subject.Status.ACTIVE for s in subjects.values())
    return subjects


def served_gold():
    """The glitches the queue hands a top-level volunteer (there is no pool: all gold)."""
    volunteer = UserFactory(username="vera", profile__level=9)
    served: list[Subject] = []
    while next_one := selectors.subject_next_for_volunteer(
        volunteer=volunteer, exclude_ids=[s.pk for s in served]
    ):
        served.append(next_one)
    assert all(s.is_gold for s in served)
    return {s.external_id for s in served}


def test_gold_the_guide_shows_by_id_or_by_image_stops_serving_as_gold_once(
    gold_imported_before_the_guide,
):
    out = run("load_field_guide")

    by_id = Subject.objects.get(external_id=SHIPPED_ID)
    by_image = Subject.objects.get(external_id="L1_renamed0000")
    for subject, label in ((by_id, "Blip"), (by_image, "Whistle")):
        # retired with its gold label, as "Add to the field guide" retires one
        assert subject.status == Subject.Status.RETIRED and subject.retired_at is not None
        assert subject.is_gold and subject.retired_label.name == label
    assert served_gold() == {"H1_unrelated00"}  # the unrelated gold still tests volunteers
    assert (
        f"gold subject {by_id.pk} (Blip, '{SHIPPED_ID}') is the field guide's Blip example "
        f"{SHIPPED_ID}, where its answer is public: retired with its gold label" in out
    )
    assert (
        f"gold subject {by_image.pk} (Whistle, 'L1_renamed0000') shows the same glitch as the "
        f"field guide's Whistle example {SHIPPED_WHISTLE}" in out
    )
    assert "field guide: 2 gold subjects it shows no longer serve as gold" in out

    before = sorted(Subject.objects.values_list("pk", "status", "retired_label", "retired_at"))
    out = run("load_field_guide")  # the next start
    assert "field guide: 0 new example images" in out and "gold subject" not in out
    after = sorted(Subject.objects.values_list("pk", "status", "retired_label", "retired_at"))
    assert after == before


def test_an_install_whose_guide_was_filled_before_this_check_is_caught_at_its_next_start(
    gold_imported_before_the_guide, tmp_path
):
    """The guide filled by the command as it was (it retired nothing): the next start adds
    no image and still retires the gold it shows by id, even with no folder to load; by
    image only when asked (--check-images): about 30 ms a gold subject, which at thousands
    held every start of the web service for minutes."""
    from webapp.labeling.services import field_guide_load

    field_guide_load(folder=SHIPPED)
    assert len(served_gold()) == 3

    out = run("load_field_guide", "--dir", str(tmp_path / "none"))

    assert "no field-guide images" in out and "1 gold subjects it shows" in out
    assert "by id only (no image added this run): --check-images" in out
    assert served_gold() == {"L1_renamed0000", "H1_unrelated00"}

    out = run("load_field_guide", "--dir", str(tmp_path / "none"), "--check-images")

    assert "1 gold subjects it shows" in out and "by id only" not in out
    assert served_gold() == {"H1_unrelated00"}


def test_too_many_gold_glitches_are_compared_by_id_only_and_said(
    gold_imported_before_the_guide, monkeypatch
):
    import ml.fingerprint

    monkeypatch.setattr(ml.fingerprint, "AUTO_MAX_VIEWS", 1)

    out = run("load_field_guide")

    assert served_gold() == {"L1_renamed0000", "H1_unrelated00"}  # the id still found
    assert (
        "note: 2 gold subjects, too many to compare with the field guide's examples by image: "
        "compared by id only" in out
    )
