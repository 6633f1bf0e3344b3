"""manage.py import_glitches DIR [--role pool|gold|validation] [--source NAME] [--gold-fraction F]

Reads every layout ml.data reads, copies the images into MEDIA_ROOT and creates one Subject
per glitch. Re-running adds nothing twice; bad files are reported one line each and skipped.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ml.classes import ClassRegistry
from ml.data import load_samples
from webapp.labeling.models import GlitchClass, Subject
from webapp.labeling.services import subject_import


def _in_fraction(glitch_id: str, fraction: float) -> bool:
    """A stable pseudo-random choice by id, so a re-run picks the same glitches."""
    digest = hashlib.sha256(glitch_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < fraction


class Command(BaseCommand):
    help = "Import glitch spectrograms (any layout ml.data reads) as subjects."

    def add_arguments(self, parser):
        parser.add_argument("directory", nargs="+", help="folder(s) or manifest CSV(s)")
        parser.add_argument("--role", choices=[r.value for r in Subject.Role], default="pool")
        parser.add_argument("--source", help="data set name (default: the folder's name)")
        parser.add_argument(
            "--gold-fraction",
            type=float,
            default=0.0,
            help="import this share of the labelled glitches as gold instead (stable by id)",
        )
        parser.add_argument(
            "--keep-unknown-classes",
            action="store_true",
            help="pool only: also import glitches whose folder names a class the registry does "
            "not hold (e.g. simulated new classes for discovery); the name is kept as the "
            "source label only",
        )

    def handle(self, *args, **options):
        roots = [Path(d) for d in options["directory"]]
        for root in roots:
            if not root.exists():
                raise CommandError(f"{root}: no such file or folder")
        source = options["source"] or roots[0].resolve().name
        keep_unknown = options["keep_unknown_classes"]
        if keep_unknown and options["role"] != "pool":
            raise CommandError("--keep-unknown-classes is for --role pool only")
        registry = ClassRegistry(GlitchClass.objects.values_list("name", flat=True))
        result = load_samples(roots, registry=registry, keep_unknown_labels=keep_unknown)
        for problem in result.problems:
            self.stderr.write(f"skipped {problem}")

        created = existing = failed = 0
        for sample in result.samples:
            role = options["role"]
            if (
                sample.label in registry
                and role == "pool"
                and _in_fraction(sample.id, options["gold_fraction"])
            ):
                role = Subject.Role.GOLD
            real = sample.views()
            try:
                _, was_created = subject_import(
                    external_id=sample.id,
                    source=source,
                    role=role,
                    label=sample.label,
                    image_paths=real or dict(sample.paths),
                    ifo=sample.ifo or "",
                )
            except (ValidationError, OSError) as error:
                failed += 1
                reason = "; ".join(getattr(error, "messages", [str(error)]))
                self.stderr.write(f"skipped {sample.id}: {reason}")
                continue
            created += was_created
            existing += not was_created
        self.stdout.write(
            f"imported {created} new subjects from {', '.join(map(str, roots))} "
            f"(source {source!r}); {existing} already present; "
            f"{len(result.problems) + failed} problems"
        )
