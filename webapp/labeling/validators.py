"""Field validators for images and durations entered through forms (the admin's): the same
checks an import makes (ml.data), so a file uploaded by hand is refused as one imported
would be, saying why."""

from __future__ import annotations

import contextlib

from django.core.exceptions import ValidationError
from django.core.files import File
from PIL import Image, UnidentifiedImageError

from ml.data import DURATIONS, MAX_IMAGE_BYTES, opened_image_problem

FORMATS = ("PNG", "JPEG")


def glitch_image(file: File) -> None:
    """A PNG or JPEG Omega scan: within MAX_IMAGE_BYTES, and what opened_image_problem
    accepts (not a decompression bomb, not a sliver, in colour, one frame). Only a file
    being uploaded: one stored before (an edit of its row's other fields) is left alone,
    even if it would be refused now, or missing."""
    if getattr(file, "_committed", False):
        return
    if file.size is not None and file.size > MAX_IMAGE_BYTES:
        raise ValidationError(f"file too large ({file.size} bytes; the limit is {MAX_IMAGE_BYTES})")
    try:
        file.seek(0)
        with Image.open(file) as image:
            image_format, problem = image.format, opened_image_problem(image)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as error:
        raise ValidationError(f"not an image that can be read ({error})") from None
    finally:
        with contextlib.suppress(OSError, ValueError):
            file.seek(0)
    if image_format not in FORMATS:
        raise ValidationError(f"a {image_format} image: an Omega scan is a PNG or a JPEG")
    if problem:
        raise ValidationError(problem)


def duration(value: float) -> None:
    if value not in DURATIONS:
        durations = ", ".join(f"{d:g}" for d in DURATIONS)
        raise ValidationError(f"{value:g} s is not an Omega scan's window ({durations} s)")
