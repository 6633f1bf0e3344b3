"""An import that fails part-way leaves no image in MEDIA_ROOT (2026-12-07 operator review,
finding 5): its rows rolled back but the files it had copied stayed, a truncated one too,
under random names nothing could tell from real images, and each rerun copied them again."""

import errno
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.management import call_command
from django.db import DatabaseError, OperationalError, connection
from webapp_factories import tiny_png

from webapp.labeling import metadata, services
from webapp.labeling.models import Subject, SubjectImage

DURATIONS = (0.5, 1.0, 2.0, 4.0)


def views(folder: Path, glitch_id: str) -> dict[float, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for duration in DURATIONS:
        paths[duration] = folder / f"{glitch_id}_{duration}.png"
        paths[duration].write_bytes(tiny_png((int(duration * 50), 9, 9)))
    return paths


def media_files(settings) -> set[str]:
    media = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()}


def named() -> set[str]:
    return set(SubjectImage.objects.values_list("image", flat=True))


def disk_full_at(nth: int, monkeypatch) -> dict[str, int]:
    """The nth image written is cut short by a full disk, a partial file left as
    FileSystemStorage leaves it; the count of writes."""
    save = FileSystemStorage._save
    calls = {"n": 0}

    def _save(self, name, content):
        calls["n"] += 1
        if calls["n"] == nth:
            path = Path(self.path(name))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content.read()[:20])
            raise OSError(errno.ENOSPC, "No space left on device")
        return save(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", _save)
    return calls


def import_one(paths: dict[float, Path], **extra):
    return services.subject_import(
        external_id="H1_aaaaaaaaaa", source="t", role="pool", label=None, image_paths=paths, **extra
    )


@pytest.mark.django_db
def test_an_import_the_disk_fills_up_in_leaves_no_file_and_its_rerun_no_second_copy(
    tmp_path, settings, monkeypatch
):
    paths = views(tmp_path / "in", "H1_aaaaaaaaaa")
    calls = disk_full_at(3, monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        import_one(paths)
    assert calls["n"] == 3
    assert not Subject.objects.exists() and not SubjectImage.objects.exists()
    assert media_files(settings) == set()  # the two whole copies and the half one went

    monkeypatch.undo()
    subject, created = import_one(paths)  # the rerun, space freed
    assert created and subject.images.count() == 4
    assert media_files(settings) == named() and len(named()) == 4
    for image in subject.images.all():
        assert image.image.read() == paths[image.duration].read_bytes()


@pytest.mark.django_db
def test_an_import_whose_rows_fail_to_write_leaves_no_file(tmp_path, settings, monkeypatch):
    """Every image copied, then the last row's INSERT fails (a dropped connection)."""
    paths = views(tmp_path / "in", "H1_aaaaaaaaaa")
    save = SubjectImage.save

    def _save(self, *args, **kwargs):
        if self.duration == DURATIONS[-1]:
            raise OperationalError("server closed the connection unexpectedly")
        return save(self, *args, **kwargs)

    monkeypatch.setattr(SubjectImage, "save", _save)
    with pytest.raises(OperationalError):
        import_one(paths)
    assert not Subject.objects.exists() and media_files(settings) == set()


@pytest.mark.django_db
def test_an_import_whose_metadata_fails_after_its_images_leaves_no_file(
    tmp_path, settings, monkeypatch
):
    """subject_import_with_metadata's transaction rolls back a subject_import that had
    succeeded inside it: its images go too."""

    def fails(**_):
        raise DatabaseError("value too long for type character varying(2)")

    monkeypatch.setattr(metadata, "subject_metadata_set", fails)
    with pytest.raises(DatabaseError):
        metadata.subject_import_with_metadata(
            metadata=object(),
            external_id="H1_aaaaaaaaaa",
            source="t",
            role="pool",
            label=None,
            image_paths=views(tmp_path / "in", "H1_aaaaaaaaaa"),
        )
    assert not Subject.objects.exists() and media_files(settings) == set()


@pytest.mark.django_db
def test_import_glitches_keeps_the_glitches_imported_and_nothing_of_the_one_that_failed(
    tmp_path, settings, monkeypatch
):
    root = tmp_path / "glitches"
    for glitch_id in ("H1_aaaaaaaaaa", "H1_bbbbbbbbbb", "H1_cccccccccc"):
        views(root / "Blip", glitch_id)
    disk_full_at(len(DURATIONS) + 2, monkeypatch)  # the second glitch's second view
    out, err = StringIO(), StringIO()
    call_command("import_glitches", str(root), "--source", "t", stdout=out, stderr=err)
    assert "skipped H1_bbbbbbbbbb: [Errno 28] No space left on device" in err.getvalue()
    assert set(Subject.objects.values_list("external_id", flat=True)) == {
        "H1_aaaaaaaaaa", "H1_cccccccccc"
    }  # fmt: skip
    assert media_files(settings) == named() and len(named()) == 2 * len(DURATIONS)


@pytest.mark.parametrize("committed", [True, False], ids=["committed", "rolled-back"])
@pytest.mark.django_db(transaction=True)
def test_a_commit_that_fails_removes_only_the_images_no_committed_row_names(
    committed, tmp_path, settings, monkeypatch
):
    """A COMMIT whose connection drops may have committed or not: the database says which."""
    paths = views(tmp_path / "in", "H1_aaaaaaaaaa")
    commit = connection.commit

    def _commit():
        if committed:
            commit()
        raise OperationalError("server closed the connection unexpectedly")

    with monkeypatch.context() as patch:
        patch.setattr(connection, "commit", _commit)
        with pytest.raises(OperationalError):
            import_one(paths)
    if committed:
        assert Subject.objects.count() == 1
        assert media_files(settings) == named() and len(named()) == 4
    else:
        assert not Subject.objects.exists() and media_files(settings) == set()
