"""import_glitches refuses hostile data sets file by file, with one clear line each, and
the service that copies files into MEDIA_ROOT checks them again."""

from __future__ import annotations

import struct
import zlib
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from webapp_factories import tiny_png

from webapp.labeling import services
from webapp.labeling.models import Subject, SubjectImage

pytestmark = pytest.mark.django_db


def png_declaring(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def test_hostile_files_are_skipped_one_line_each(tmp_path: Path, settings):
    root = tmp_path / "upload"
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "secret_1.0.png").write_bytes(tiny_png())
    (root / "Blip").mkdir(parents=True)
    (root / "Blip" / "H1_good_1.0.png").write_bytes(tiny_png())
    (root / "Blip" / "H1_bomb_1.0.png").write_bytes(png_declaring(30_000, 30_000))
    (root / "Blip" / "H1_script_1.0.png").write_text("#!/bin/sh\nrm -rf /\n")
    (root / "Blip" / "H1_link_1.0.png").symlink_to(outside / "secret_1.0.png")
    out, err = StringIO(), StringIO()

    call_command("import_glitches", str(root), stdout=out, stderr=err)

    lines = err.getvalue().splitlines()
    assert len(lines) == 3, lines
    assert any("H1_bomb_1.0.png: image too large, possible decompression bomb" in x for x in lines)
    assert any("H1_script_1.0.png: not a readable image" in x for x in lines)
    assert any("H1_link_1.0.png: symlink leads outside" in x for x in lines)
    assert "imported 1 new subjects" in out.getvalue() and "3 problems" in out.getvalue()
    assert list(Subject.objects.values_list("external_id", flat=True)) == ["H1_good"]
    copied = [p.name for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    assert len(copied) == 1 and "secret" not in copied[0]


def test_a_manifest_cannot_reach_outside_its_folder(tmp_path: Path):
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "x_1.0.png").write_bytes(tiny_png())
    (tmp_path / "set").mkdir()
    (tmp_path / "set" / "manifest.csv").write_text(
        "id,label,duration,path\n"
        "a,Blip,1.0,../private/x_1.0.png\n"
        f"b,Blip,1.0,{tmp_path / 'private' / 'x_1.0.png'}\n"
    )
    err = StringIO()

    call_command("import_glitches", str(tmp_path / "set"), stdout=StringIO(), stderr=err)

    assert not Subject.objects.exists()
    assert "contains '..'" in err.getvalue() and "is absolute" in err.getvalue()


def test_the_copying_service_rechecks_each_file(tmp_path: Path):
    bomb = tmp_path / "bomb_1.0.png"
    bomb.write_bytes(png_declaring(30_000, 30_000))

    with pytest.raises(ValidationError, match="decompression bomb"):
        services.subject_import(
            external_id="x", source="t", role="pool", label=None, image_paths={1.0: bomb}
        )
    with pytest.raises(ValidationError, match="not a regular file"):
        services.subject_import(
            external_id="y", source="t", role="pool", label=None, image_paths={1.0: tmp_path}
        )
    assert not Subject.objects.exists() and not SubjectImage.objects.exists()
