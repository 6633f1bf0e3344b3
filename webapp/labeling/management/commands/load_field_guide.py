"""manage.py load_field_guide: fill the field guide from the shipped example images.

Production-safe and idempotent: it adds only the example images not yet in the guide and
creates no account (seed_demo, debug only, calls the same service). docker-compose's web
service runs it after `migrate` at each start, so a new install's guide is not empty
(docs/deploy.md). The folder is GLITCHLAB_FIELD_GUIDE_DIR (default: the examples shipped in
webapp/labeling/field_guide_examples, docs/data_notice.md) unless --dir names another.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from webapp.labeling.services import field_guide_load


class Command(BaseCommand):
    help = (
        "Add the field guide's example images (GLITCHLAB_FIELD_GUIDE_DIR, or --dir) that are "
        "not in it yet. Creates no account; running it again adds nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dir",
            default=str(settings.GLITCHLAB_FIELD_GUIDE_DIR),
            help="folder of example images (<class>/<id>_<duration>.<ext>); "
            "default: GLITCHLAB_FIELD_GUIDE_DIR",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        folder = Path(options["dir"])
        if not folder.is_dir():
            self.stdout.write(f"no field-guide images at {folder}: the guide shows text only")
            return
        added = field_guide_load(folder=folder)
        self.stdout.write(f"field guide: {added} new example images from {folder}")
