"""manage.py load_field_guide: fill the field guide from the shipped example images.

Production-safe and idempotent: it adds only the example images not yet in the guide and
creates no account (seed_demo, debug only, calls the same service). docker-compose's web
service runs it after `migrate` at each start, so a new install's guide is not empty
(docs/deploy.md). The folder is GLITCHLAB_FIELD_GUIDE_DIR (default: the examples shipped in
webapp/labeling/field_guide_examples, docs/data_notice.md) unless --dir names another.

Each run then retires every gold subject still serving as gold whose glitch the guide shows
(its external id is an example's glitch id; and, when this run added images or
--check-images asks, its image shows an example's glitch, ml.fingerprint): gold imported
before the guide held its example would be a gold answer anyone can read. It says which on
stdout. By id only on a run that added nothing: by image it takes about 30 ms a gold
subject, which at thousands of them held every start of the web service for minutes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from webapp.labeling.services import field_guide_load, gold_in_field_guide_retire


class Command(BaseCommand):
    help = (
        "Add the field guide's example images (GLITCHLAB_FIELD_GUIDE_DIR, or --dir) that are "
        "not in it yet, then retire the gold subjects whose glitch it shows (their answer is "
        "public). Creates no account; running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dir",
            default=str(settings.GLITCHLAB_FIELD_GUIDE_DIR),
            help="folder of example images (<class>/<id>_<duration>.<ext>); "
            "default: GLITCHLAB_FIELD_GUIDE_DIR",
        )
        parser.add_argument(
            "--check-images",
            action="store_true",
            help="compare every gold subject's image with the guide's examples, not only their "
            "ids (done anyway on a run that adds images; ~30 ms a gold subject)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        folder = Path(options["dir"])
        added = 0
        if folder.is_dir():
            added = field_guide_load(folder=folder)
            self.stdout.write(f"field guide: {added} new example images from {folder}")
        else:
            self.stdout.write(f"no field-guide images at {folder}: the guide shows text only")
        # Every run, not only one that added images: an install upgraded from before this
        # check, or an example an admin added since the last start (by its id, then).
        self._retire_gold_it_shows(by_image=bool(added) or options["check_images"])

    def _retire_gold_it_shows(self, *, by_image: bool) -> None:
        """Gold imported before the guide held its example was still served as gold while
        the guide showed its answer: it now retires (the import makes such gold pool)."""
        check = gold_in_field_guide_retire(by_image=by_image)
        for shown in check.found:
            subject = shown.subject
            label = subject.gold_label.name if subject.gold_label else ""
            self.stdout.write(
                f"gold subject {subject.pk} ({label}, {subject.external_id!r}) {shown.why}, "
                "where its answer is public: retired with its gold label, no longer served "
                "as gold"
            )
        if check.found:
            self.stdout.write(
                f"field guide: {len(check.found)} gold subjects it shows no longer serve as gold"
            )
        if not by_image:
            self.stdout.write(
                "gold compared with the guide's examples by id only (no image added this run): "
                "--check-images compares their pictures too"
            )
        elif check.not_compared:
            self.stdout.write(
                f"note: {check.not_compared} gold subjects, too many to compare with the field "
                "guide's examples by image: compared by id only"
            )
