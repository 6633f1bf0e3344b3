"""import_glitches, seed_demo and export_labels."""

import json
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from webapp_factories import tiny_png

from webapp.labeling.models import GlitchClassExample, Subject

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def glitch_dir(tmp_path):
    root = tmp_path / "glitches"
    for label, glitch_id in (("Blip", "H1_aaaaaaaaaa"), ("Whistle", "L1_bbbbbbbbbb")):
        (root / label).mkdir(parents=True, exist_ok=True)
        for duration in ("0.5", "1.0", "2.0", "4.0"):
            (root / label / f"{glitch_id}_{duration}.png").write_bytes(tiny_png())
    (root / "Blip" / "H1_cccccccccc_1.0.png").write_bytes(b"this is not a png")
    (root / "Not_A_Class").mkdir()
    (root / "Not_A_Class" / "H1_dddddddddd_1.0.png").write_bytes(tiny_png())
    return root


def test_import_copies_images_reports_bad_files_and_is_idempotent(glitch_dir, settings):
    out, err = run("import_glitches", str(glitch_dir), "--role", "gold", "--source", "t")
    assert "imported 2 new subjects" in out
    assert "H1_cccccccccc_1.0.png" in err and "Not_A_Class" in err
    assert len([line for line in err.splitlines() if line]) == 2  # one line per bad file
    blip = Subject.objects.get(external_id="H1_aaaaaaaaaa")
    assert (blip.role, blip.gold_label.name, blip.ifo, blip.source) == ("gold", "Blip", "H1", "t")
    assert blip.images.count() == 4
    assert (settings.MEDIA_ROOT / blip.images.first().image.name).is_file()
    out, _ = run("import_glitches", str(glitch_dir), "--source", "t")
    assert "imported 0 new subjects" in out and Subject.objects.count() == 2


def test_a_glitch_imported_again_with_another_label_or_role_keeps_its_own_and_says_so(
    glitch_dir,
):
    run("import_glitches", str(glitch_dir), "--role", "validation", "--source", "t")
    (glitch_dir / "Blip").rename(glitch_dir / "Koi_Fish")  # a corrected class
    out, err = run("import_glitches", str(glitch_dir), "--role", "gold", "--source", "t")

    assert "imported 0 new subjects" in out
    blip = Subject.objects.get(external_id="H1_aaaaaaaaaa")
    assert (blip.role, blip.source_label) == ("validation", "Blip")
    assert (
        f"H1_aaaaaaaaaa is already subject {blip.pk} (validation, labelled 'Blip'); this "
        "import says gold, 'Koi_Fish': kept as it was" in err
    )
    assert "L1_bbbbbbbbbb is already" in err  # its role differs too


def test_one_glitch_saved_under_two_ids_becomes_one_subject(tmp_path):
    from ml.data import load_samples
    from ml.synth import generate

    generate(tmp_path / "made", 1, classes=["Koi_Fish", "Whistle"], style="crop", seed=7)
    koi, whistle = load_samples(tmp_path / "made").samples
    root = tmp_path / "glitches"
    for sample, ids in ((koi, ("L1_short", "L1_long")), (whistle, ("H1_w1", "H1_w2"))):
        (root / str(sample.label)).mkdir(parents=True)
        for duration, path in sample.views().items():
            glitch_id = ids[0] if duration < 2 or sample is whistle else ids[1]
            if sample is whistle and duration == 4.0:
                glitch_id, label = ids[1], "Blip"  # the same glitch given another label
                (root / label).mkdir(exist_ok=True)
            else:
                label = str(sample.label)
            (root / label / f"{glitch_id}_{duration}.png").write_bytes(path.read_bytes())
    for _ in range(2):  # a re-run adds nothing
        out, err = run("import_glitches", str(root), "--source", "t")
    assert "imported 0 new subjects" in out
    assert Subject.objects.count() == 3
    merged = Subject.objects.get(external_id="L1_long")
    assert sorted(merged.images.values_list("duration", flat=True)) == [0.5, 1.0, 2.0, 4.0]
    assert not Subject.objects.filter(external_id="L1_short").exists()
    assert "merged as L1_long: L1_long + L1_short" in err
    assert "show the same glitch (labelled" in err and "kept apart" in err


@pytest.fixture
def per_duration(tmp_path):
    """Two simulated Whistles as one folder per duration (as a careless export might be):
    the first glitch's 1 s view in whistles_1s as w1, its 4 s view in whistles_4s as w4,
    beside another glitch's 4 s view, x."""
    from ml.data import load_samples
    from ml.synth import generate

    generate(tmp_path / "made", 2, classes=["Whistle"], style="crop", seed=9)
    first, second = load_samples(tmp_path / "made").samples
    for duration in (1.0, 4.0):
        folder = tmp_path / f"whistles_{duration:g}s" / "Whistle"
        folder.mkdir(parents=True)
        (folder / f"w{duration:g}_{duration}.png").write_bytes(first.paths[duration].read_bytes())
        if duration == 4.0:
            (folder / f"x_{duration}.png").write_bytes(second.paths[duration].read_bytes())
    return tmp_path


def test_a_glitch_whose_durations_come_in_two_imports_is_named(per_duration):
    run("import_glitches", str(per_duration / "whistles_1s"))
    out, err = run("import_glitches", str(per_duration / "whistles_4s"))
    assert "imported 2 new subjects" in out and Subject.objects.count() == 3
    old = Subject.objects.get(external_id="w1")
    assert f"w4 shows the same glitch as subject {old.pk} (w1, source 'whistles_1s')" in err
    assert "x shows" not in err


def test_too_many_earlier_views_are_not_compared_and_said_so(per_duration, monkeypatch):
    import ml.fingerprint

    run("import_glitches", str(per_duration / "whistles_1s"))
    monkeypatch.setattr(ml.fingerprint, "AUTO_MAX_VIEWS", 0)
    out, err = run("import_glitches", str(per_duration / "whistles_4s"))
    assert "imported 2 new subjects" in out
    assert "subjects imported before that lack a duration hold 1 views, too many" in err
    assert "shows the same glitch" not in err


def test_a_folder_imported_again_under_another_source_name_is_not_doubled(glitch_dir, tmp_path):
    run("import_glitches", str(glitch_dir), "--source", "first")
    namesake = tmp_path / "other" / "Blip"  # another glitch that happens to share an id
    namesake.mkdir(parents=True)
    (namesake / "H1_aaaaaaaaaa_1.0.png").write_bytes(tiny_png(colour=(200, 10, 10)))
    out, err = run("import_glitches", str(glitch_dir), "--source", "second", "--role", "gold")
    assert "imported 0 new subjects" in out and "2 already imported from another source" in out
    assert "H1_aaaaaaaaaa was imported from source 'first' with the same images: skipped" in err
    assert set(Subject.objects.values_list("source", flat=True)) == {"first"}
    out, _ = run("import_glitches", str(namesake.parent), "--source", "second")
    assert "imported 1 new subjects" in out
    assert Subject.objects.filter(external_id="H1_aaaaaaaaaa").count() == 2


def test_one_glitch_in_two_renderings_under_two_sources_is_imported_once(tmp_path):
    # The Kaggle copy of Gravity Spy holds crops of the plot area, Zenodo the whole plots:
    # other bytes, the same glitch under the same id. Imported as two subjects, it could be
    # validated on and trained on at once.
    from PIL import Image

    from ml.data import load_samples
    from ml.synth import generate

    generate(tmp_path / "made", 1, classes=["Whistle"], style="crop", seed=11)
    (glitch,) = load_samples(tmp_path / "made").samples
    for archive in ("kaggle", "zenodo"):
        (tmp_path / archive / "Whistle").mkdir(parents=True)
    for duration, path in glitch.views().items():
        name = f"H1_wwwwwwwwww_{duration}"
        (tmp_path / "kaggle" / "Whistle" / f"{name}.png").write_bytes(path.read_bytes())
        smaller = Image.open(path).convert("RGB").resize((429, 359), Image.Resampling.BILINEAR)
        smaller.save(tmp_path / "zenodo" / "Whistle" / f"{name}.jpg", quality=80)
    run("import_glitches", str(tmp_path / "kaggle"), "--role", "validation")
    out, err = run("import_glitches", str(tmp_path / "zenodo"), "--role", "gold")

    assert "imported 0 new subjects" in out and "1 already imported from another source" in out
    assert (
        "H1_wwwwwwwwww was imported from source 'kaggle' with the same glitch in another "
        "rendering: skipped" in err
    )
    assert list(Subject.objects.values_list("role", flat=True)) == ["validation"]


def _guide_example(path, glitch_id, class_name="Blip"):
    from webapp.labeling.models import GlitchClass
    from webapp.labeling.services import glitch_class_example_add_glitch

    glitch_class = GlitchClass.objects.get(name=class_name)
    glitch_class_example_add_glitch(
        glitch_class=glitch_class, glitch_id=glitch_id, views={1.0: path}, caption="example"
    )


def test_a_gold_glitch_the_field_guide_shows_by_its_id_is_imported_as_pool(glitch_dir):
    # The shipped guide holds real glitches of ../shared/data/gravityspy-real by their ids:
    # as gold, their answers would be public.
    _guide_example(glitch_dir / "Blip" / "H1_aaaaaaaaaa_1.0.png", "H1_aaaaaaaaaa")
    out, err = run("import_glitches", str(glitch_dir), "--role", "gold", "--source", "t")

    roles = dict(Subject.objects.values_list("external_id", "role"))
    assert roles == {"H1_aaaaaaaaaa": "pool", "L1_bbbbbbbbbb": "gold"}
    assert (
        "note: H1_aaaaaaaaaa is the field guide's Blip example H1_aaaaaaaaaa, where its answer "
        "is public: imported as pool, not gold" in err
    )
    assert "1 gold shown in the field guide imported as pool" in out
    out, err = run("import_glitches", str(glitch_dir), "--role", "gold", "--source", "t")
    assert "imported 0 new subjects" in out and "already subject" not in err  # a re-run agrees


def test_a_gold_glitch_the_field_guide_shows_under_another_name_is_imported_as_pool(tmp_path):
    """The guide's copy: another id, another file (a JPEG of another size); the same noise."""
    from PIL import Image

    from ml.data import load_samples
    from ml.synth import generate

    generate(tmp_path / "made", 2, classes=["Whistle"], style="crop", seed=13)
    shown, other = load_samples(tmp_path / "made").samples
    guide_copy = tmp_path / "guide_copy.jpg"
    smaller = Image.open(shown.paths[1.0]).convert("RGB")
    smaller.resize((429, 359), Image.Resampling.BILINEAR).save(guide_copy, quality=80)
    _guide_example(guide_copy, "golden-Whistle", class_name="Whistle")
    root = tmp_path / "gold" / "Whistle"
    root.mkdir(parents=True)
    for sample, glitch_id in ((shown, "H1_shownshown"), (other, "H1_otherother")):
        for duration, path in sample.views().items():
            (root / f"{glitch_id}_{duration}.png").write_bytes(path.read_bytes())

    out, err = run("import_glitches", str(root.parent), "--role", "pool", "--gold-fraction", "1")

    roles = dict(Subject.objects.values_list("external_id", "role"))
    assert roles == {"H1_shownshown": "pool", "H1_otherother": "gold"}
    assert (
        "note: H1_shownshown shows the same glitch as the field guide's Whistle example "
        "golden-Whistle, where its answer is public: imported as pool, not gold" in err
    )


def test_too_many_gold_glitches_are_compared_with_the_guide_by_id_only(glitch_dir, monkeypatch):
    import ml.fingerprint

    _guide_example(glitch_dir / "Blip" / "H1_aaaaaaaaaa_1.0.png", "H1_aaaaaaaaaa")
    monkeypatch.setattr(ml.fingerprint, "AUTO_MAX_VIEWS", 0)
    _, err = run("import_glitches", str(glitch_dir), "--role", "gold", "--source", "t")
    assert Subject.objects.get(external_id="H1_aaaaaaaaaa").role == "pool"
    assert "note: 1 gold glitches, too many to compare with the field guide's examples" in err


def test_pool_import_can_keep_glitches_of_classes_the_registry_lacks(glitch_dir):
    out, err = run("import_glitches", str(glitch_dir), "--keep-unknown-classes", "--source", "t")
    assert "imported 3 new subjects" in out
    assert "Not_A_Class" not in err and "H1_cccccccccc_1.0.png" in err
    unknown = Subject.objects.get(external_id="H1_dddddddddd")
    assert (unknown.role, unknown.source_label, unknown.gold_label) == ("pool", "Not_A_Class", None)


def test_a_gold_folder_spelled_as_zooniverse_spells_its_class_imports_as_that_class(tmp_path):
    """KoiFish/ (the Zooniverse project's spelling): before, every glitch in it was skipped
    as a class the registry lacks."""
    (tmp_path / "KoiFish").mkdir()
    (tmp_path / "KoiFish" / "H1_kkkkkkkkkk_1.0.png").write_bytes(tiny_png())
    out, err = run("import_glitches", str(tmp_path), "--role", "gold", "--source", "t")
    assert "imported 1 new subjects" in out
    assert "note: class 'KoiFish' read as 'Koi_Fish'" in err and "skipped" not in err
    assert Subject.objects.get(external_id="H1_kkkkkkkkkk").gold_label.name == "Koi_Fish"


def test_keeping_unknown_classes_is_refused_outside_the_pool(glitch_dir):
    with pytest.raises(CommandError, match="pool only"):
        run("import_glitches", str(glitch_dir), "--role", "gold", "--keep-unknown-classes")


def test_import_of_a_missing_folder_fails_clearly(tmp_path):
    with pytest.raises(Exception, match="no such file"):
        run("import_glitches", str(tmp_path / "nope"))


def test_seed_demo_is_idempotent_and_makes_the_demo_accounts(glitch_dir, settings):
    settings.DEBUG = True
    for _ in range(2):
        out, _ = run("seed_demo", "--password", "pw123", "--field-guide", str(glitch_dir))
    assert "password: pw123" in out
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("pw123")
    assert User.objects.get(username="reviewer").groups.filter(name="reviewer").exists()
    assert not User.objects.get(username="volunteer").is_staff
    # One Blip and one Whistle glitch, every duration of each (8 images): not twice.
    assert GlitchClassExample.objects.count() == 8
    assert GlitchClassExample.objects.values("glitch_id").distinct().count() == 2


def test_seed_demo_help_names_every_demo_account():
    from webapp.labeling.management.commands.seed_demo import DEMO_ACCOUNTS, Command

    for username, _, _ in DEMO_ACCOUNTS:  # the help said three of the four (no expert)
        assert username in Command.help, username


def test_seed_demo_refuses_outside_debug(settings):
    settings.DEBUG = False
    with pytest.raises(Exception, match="DEBUG"):
        run("seed_demo")


def test_export_labels_as_json(glitch_dir, tmp_path):
    run("import_glitches", str(glitch_dir), "--source", "gravityspy-real")
    target = tmp_path / "labels.json"
    run("export_labels", "--format", "json", "--output", str(target))
    rows = json.loads(target.read_text())
    # The API export's columns (webapp.labeling.exports): Gravity Spy's gravityspy_id.
    assert {row["gravityspy_id"] for row in rows} == {"aaaaaaaaaa", "bbbbbbbbbb"}
    assert rows[0]["status"] == "active" and rows[0]["votes"] == {}


def test_an_export_that_fails_leaves_the_previous_file_whole(glitch_dir, tmp_path, monkeypatch):
    """The file was opened for writing first: a failed or interrupted export truncated the
    previous one. A folder that does not exist was a FileNotFoundError traceback."""
    from django.core.management.base import CommandError

    from webapp.labeling import exports

    run("import_glitches", str(glitch_dir))
    target = tmp_path / "labels.csv"
    run("export_labels", "--output", str(target))
    before = target.read_bytes()

    def broken(rows):
        yield "subject_id\n"
        raise RuntimeError("the database went away")

    monkeypatch.setattr(exports, "as_csv", broken)
    with pytest.raises(RuntimeError):
        run("export_labels", "--output", str(target))
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".labels")) == []
    with pytest.raises(CommandError, match="no folder"):
        run("export_labels", "--output", str(tmp_path / "missing" / "x.csv"))


def test_a_gold_import_run_again_after_the_guide_grew_says_nothing_it_did_not_do(glitch_dir):
    """Before: the glitch, already a gold subject, was counted and noted as "imported as pool"
    while the import left it gold, as it leaves every subject it holds; each re-run also
    compared every gold glitch with the guide again."""
    run("import_glitches", str(glitch_dir), "--role", "gold", "--source", "t")
    _guide_example(glitch_dir / "Blip" / "H1_aaaaaaaaaa_1.0.png", "H1_aaaaaaaaaa")
    out, err = run("import_glitches", str(glitch_dir), "--role", "gold", "--source", "t")
    assert "imported 0 new subjects" in out and "field guide" not in out
    assert "imported as pool" not in err and "this import says" not in err
    assert "H1_aaaaaaaaaa is already gold subject" in err and "answer is public" in err
    assert Subject.objects.get(external_id="H1_aaaaaaaaaa").role == "gold"  # left as it was


def test_gold_the_guide_shows_that_an_import_holds_is_left_to_load_field_guide(
    glitch_dir, tmp_path
):
    """The note told the operator to make it pool in the admin, where the role is read-only;
    once load_field_guide had retired it, a re-run still said it scored."""
    run("import_glitches", str(glitch_dir), "--role", "gold", "--source", "t")
    _guide_example(glitch_dir / "Blip" / "H1_aaaaaaaaaa_1.0.png", "H1_aaaaaaaaaa")
    _, err = run("import_glitches", str(glitch_dir), "--role", "gold", "--source", "t")
    assert "`manage.py load_field_guide` (run at each start of the web service) retires it" in err
    assert "in the admin" not in err

    run("load_field_guide", "--dir", str(tmp_path / "no_images"))
    assert Subject.objects.get(external_id="H1_aaaaaaaaaa").status == Subject.Status.RETIRED
    _, err = run("import_glitches", str(glitch_dir), "--role", "gold", "--source", "t")
    assert "H1_aaaaaaaaaa" not in err


def test_a_glitch_id_longer_than_its_column_is_refused_and_the_rest_imported(glitch_dir):
    """Before: on PostgreSQL the insert failed (DataError) and stopped the import there, the
    glitches after it never imported; SQLite stored it whole. Now it is a problem line."""
    long_id = "H1_" + "x" * 200
    for duration in ("0.5", "1.0"):
        (glitch_dir / "Blip" / f"{long_id}_{duration}.png").write_bytes(tiny_png())
    out, err = run("import_glitches", str(glitch_dir), "--source", "t")
    assert "imported 2 new subjects" in out
    assert "its external_id has 203 characters, at most 128 fit" in err
    assert not Subject.objects.filter(external_id__startswith="H1_xxx").exists()
