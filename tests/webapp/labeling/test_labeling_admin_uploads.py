"""Images and durations entered through the admin's forms are checked as an import checks
them (webapp.labeling.validators): before, the admin took a 6000x6000 PNG, a 1x1 one, a GIF
and a 3 s window for a glitch's image, and the 1x1 one then broke every job that read it."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms import modelform_factory
from PIL import Image
from webapp_factories import SubjectFactory, glitch_class, tiny_png

from webapp.labeling.models import GlitchClassExample, SubjectImage

pytestmark = pytest.mark.django_db


def picture(size=(32, 24), mode="RGB", fmt="PNG") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new(mode, size, 128 if mode in ("L", "P") else (40, 120, 200)).save(buffer, fmt)
    return SimpleUploadedFile(f"x.{fmt.lower()}", buffer.getvalue())


def subject_image_form(file, duration=1.0):
    form = modelform_factory(SubjectImage, fields=["subject", "duration", "image"])
    return form({"subject": SubjectFactory(images=()).pk, "duration": duration}, {"image": file})


@pytest.mark.parametrize(
    ("upload", "said"),
    [
        (lambda: picture((1, 1)), "image too small (1x1 pixels"),
        (lambda: picture((50, 50)), "possible decompression bomb"),  # over the limit below
        (lambda: picture(mode="L"), "image without colour"),
        (lambda: picture(fmt="GIF", mode="P"), "a GIF image"),
        (lambda: SimpleUploadedFile("x.png", b"not an image"), "Upload a valid image"),
    ],
    ids=["1x1", "bomb", "grey", "gif", "text"],
)
def test_a_file_an_import_would_refuse_is_refused_by_the_admins_form_saying_why(
    upload, said, monkeypatch
):
    monkeypatch.setattr("ml.data.MAX_IMAGE_PIXELS", 2000)  # a 50x50 stands for 6000x6000
    form = subject_image_form(upload())
    assert not form.is_valid()
    assert said in " ".join(form.errors["image"])


def test_a_window_that_is_not_an_omega_scans_is_refused():
    form = subject_image_form(SimpleUploadedFile("x.png", tiny_png()), duration=3.0)
    assert not form.is_valid()
    assert "3 s is not an Omega scan's window (0.5, 1, 2, 4 s)" in form.errors["duration"][0]


def test_an_omega_scan_sized_png_is_taken_for_a_glitch_and_for_the_field_guide():
    assert subject_image_form(SimpleUploadedFile("x.png", tiny_png())).is_valid()
    form = modelform_factory(GlitchClassExample, fields=["glitch_class", "image", "duration"])
    data = {"glitch_class": glitch_class("Blip").pk, "duration": ""}
    assert form(data, {"image": picture(fmt="JPEG")}).is_valid()
    assert not form({**data, "duration": 8}, {"image": picture()}).is_valid()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_whole_image_with_data_after_its_end_is_taken(fmt):
    """A camera's or a tool's data after the end marker (JPEG EOI, PNG IEND) was refused as
    'truncated': the marker was looked for in the file's last 64 bytes only."""
    whole = picture(size=(64, 48), fmt=fmt).read()
    upload = SimpleUploadedFile(f"x.{fmt.lower()}", whole + b"trailer:" * 20)
    assert subject_image_form(upload).is_valid()


def test_a_row_whose_stored_image_predates_the_checks_can_still_be_edited(settings):
    """The checks are for a file being uploaded: a greyscale image stored before them (or
    one whose file is gone) blocked every edit of its row, or was a 500."""
    subject = SubjectFactory(images=())
    image = SubjectImage(subject=subject, duration=1.0)
    image.image.save("grey.png", picture(mode="L"), save=True)
    form = modelform_factory(SubjectImage, fields=["subject", "duration", "image", "substituted"])
    data = {"subject": subject.pk, "duration": 1.0, "substituted": "on"}
    assert form(data, {}, instance=image).is_valid()
    (settings.MEDIA_ROOT / image.image.name).unlink()
    assert form(data, {}, instance=image).is_valid()
