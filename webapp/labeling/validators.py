"""Field validators for images and durations entered through forms (the admin's): the same
checks an import makes (ml.data), so a file uploaded by hand is refused as one imported
would be, saying why."""

from __future__ import annotations

import contextlib
from typing import BinaryIO, cast

from django.core.exceptions import ValidationError
from django.core.files import File

from ml.data import DURATIONS, image_stream_problem

FORMATS = ("PNG", "JPEG")


def glitch_image(file: File) -> None:
    """A PNG or JPEG Omega scan, by the checks an import makes (ml.data.image_stream_problem:
    size, header, colour, frames, end marker). Only a file being uploaded: one stored
    before (an edit of its row's other fields) is left alone, even if it would be refused
    now, or missing."""
    if getattr(file, "_committed", False):
        return
    try:
        problem = image_stream_problem(cast(BinaryIO, file), file.size, formats=FORMATS)
    finally:
        with contextlib.suppress(OSError, ValueError):
            file.seek(0)
    if problem:
        raise ValidationError(problem)


def duration(value: float) -> None:
    if value not in DURATIONS:
        durations = ", ".join(f"{d:g}" for d in DURATIONS)
        raise ValidationError(f"{value:g} s is not an Omega scan's window ({durations} s)")
