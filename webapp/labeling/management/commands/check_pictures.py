"""manage.py check_pictures [--all]: read the image files of every open glitch (or of every
glitch) and take the broken ones out of the volunteers' queue, putting back those whole
again; for after a disk fault, a restore from a backup or a lost media volume."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Q

from webapp.labeling import services
from webapp.labeling.models import Subject


class Command(BaseCommand):
    help = (
        "Check the image files of the glitches still open (and of those already found "
        "broken): broken ones leave the queue, whole ones come back to it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--all", action="store_true", help="every glitch, retired and closed ones too"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        subjects = Subject.objects.order_by("pk")
        if not options["all"]:
            open_ = Q(status__in=[Subject.Status.ACTIVE, Subject.Status.DISCOVERY])
            subjects = subjects.filter(open_ | ~Q(pictures_problem=""))
        found = services.subjects_check_pictures(subjects=subjects)
        for subject_id, why in found.broken.items():
            self.stdout.write(f"broken: glitch {subject_id}: {why}")
        for subject_id in found.mended:
            self.stdout.write(f"whole again: glitch {subject_id}")
        self.stdout.write(
            f"{found.checked} glitches checked: {len(found.broken)} broken, out of the "
            f"volunteers' queue; {len(found.mended)} whole again, back in it."
        )
