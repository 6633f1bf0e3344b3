"""manage.py seed_demo: demo accounts, role groups, the class table and field-guide images.

Idempotent: run it as often as you like. Demo mode only (DEBUG), because it prints and sets
a known password.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from ml.data import load_samples
from webapp.accounts.roles import ADMIN, REVIEWER, ROLES, VOLUNTEER
from webapp.labeling.models import GlitchClass
from webapp.labeling.services import (
    glitch_class_example_add,
    glitch_classes_sync,
    volunteer_profile_get_or_create,
)

EXAMPLES_PER_CLASS = 2  # the golden field-guide image first, then a real glitch


class Command(BaseCommand):
    help = "Create demo users (volunteer, reviewer, admin), groups, classes and the field guide."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=settings.GLITCHLAB_DEMO_PASSWORD)
        parser.add_argument(
            "--field-guide",
            default=str(settings.GLITCHLAB_FIELD_GUIDE_DIR),
            help="folder of real example images (<label>/<id>_<duration>.<ext>)",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo sets known passwords: run it with DEBUG=1 only")
        for role in ROLES:
            Group.objects.get_or_create(name=role)
        created = glitch_classes_sync()
        self.stdout.write(f"classes: {GlitchClass.objects.count()} ({created} new)")

        password = options["password"]
        users = get_user_model().objects
        for username, role in (("volunteer", VOLUNTEER), ("reviewer", REVIEWER), ("admin", ADMIN)):
            user, _ = users.get_or_create(username=username)
            user.set_password(password)
            user.is_staff = user.is_superuser = role == ADMIN
            user.save()
            user.groups.add(Group.objects.get(name=role))
            volunteer_profile_get_or_create(user=user)
        self.stdout.write(f"demo logins: volunteer, reviewer, admin - password: {password}")
        self._field_guide(Path(options["field_guide"]))

    def _field_guide(self, folder: Path) -> None:
        if not folder.is_dir():
            self.stdout.write(f"no field-guide images at {folder}: the guide shows text only")
            return
        result = load_samples(folder)
        by_label: dict[str, list] = {}
        # Golden (Gravity Spy field guide) images first, then real glitches of the class.
        for sample in sorted(result.samples, key=lambda s: (not s.id.startswith("golden"), s.id)):
            if sample.label:
                by_label.setdefault(sample.label, []).append(sample)
        added = 0
        for glitch_class in GlitchClass.objects.filter(name__in=by_label):
            for sample in by_label[glitch_class.name][:EXAMPLES_PER_CLASS]:
                real = sorted(sample.views()) or sorted(sample.paths)  # undated: all alike
                duration = 1.0 if 1.0 in real else real[0]
                _, was_added = glitch_class_example_add(
                    glitch_class=glitch_class, path=sample.paths[duration], duration=duration
                )
                added += was_added
        self.stdout.write(f"field guide: {added} new example images from {folder}")
