"""manage.py seed_demo: demo accounts, role groups, the class table and field-guide images.

Idempotent: run it as often as you like. Demo mode only (DEBUG), because it prints and sets
a known password. The field guide is filled from the examples shipped in
webapp/labeling/field_guide_examples (docs/data_notice.md) unless --field-guide names
another folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ml.data import load_samples
from webapp.accounts.roles import ADMIN, REVIEWER, ROLES, VOLUNTEER
from webapp.labeling import config
from webapp.labeling.models import GlitchClass
from webapp.labeling.services import (
    glitch_class_example_add_glitch,
    glitch_classes_sync,
    volunteer_profile_get_or_create,
)

# The golden field-guide example first, then real glitches of the class (every duration).
EXAMPLES_PER_CLASS = 3

# (username, role, level): `expert` is a volunteer who has reached the top level, so every
# class, batch labelling on the map and class proposals are open to it from the start.
DEMO_ACCOUNTS = (
    ("volunteer", VOLUNTEER, 1),
    ("expert", VOLUNTEER, None),  # None: the top level
    ("reviewer", REVIEWER, 1),
    ("admin", ADMIN, 1),
)


def _caption(glitch_id: str) -> str:
    """Where a shipped example comes from, as the guide shows it (docs/data_notice.md)."""
    if glitch_id.startswith("golden-"):
        return "Gravity Spy's field-guide example"
    if glitch_id.startswith("zoosubject-"):
        return f"Zooniverse subject {glitch_id.removeprefix('zoosubject-')} (Gravity Spy gold)"
    if glitch_id.startswith("zoo-"):
        return "a Zooniverse subject, labelled by a volunteer"
    return f"Gravity Spy training set, {glitch_id}"


class Command(BaseCommand):
    help = "Create demo users (volunteer, reviewer, admin), groups, classes and the field guide."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", default=settings.GLITCHLAB_DEMO_PASSWORD)
        parser.add_argument(
            "--field-guide",
            default=str(settings.GLITCHLAB_FIELD_GUIDE_DIR),
            help="folder of real example images (<label>/<id>_<duration>.<ext>)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo sets known passwords: run it with DEBUG=1 only")
        for role in ROLES:
            Group.objects.get_or_create(name=role)
        created = glitch_classes_sync()
        self.stdout.write(f"classes: {GlitchClass.objects.count()} ({created} new)")

        password = options["password"]
        users = get_user_model().objects
        for username, role, level in DEMO_ACCOUNTS:
            user, _ = users.get_or_create(username=username)
            user.set_password(password)
            user.is_staff = user.is_superuser = role == ADMIN
            user.save()
            user.groups.add(Group.objects.get(name=role))
            profile = volunteer_profile_get_or_create(user=user)
            wanted = config.max_level() if level is None else level
            if profile.level < wanted:  # levels only go up, as promotions do
                profile.level = wanted
                profile.save(update_fields=["level"])
        names = ", ".join(username for username, _, _ in DEMO_ACCOUNTS)
        self.stdout.write(f"demo logins: {names} - password: {password}")
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
                added += glitch_class_example_add_glitch(
                    glitch_class=glitch_class,
                    glitch_id=sample.id,
                    # Undated files stand for every duration: one of them is enough.
                    views=sample.views() or {None: sample.paths[min(sample.paths)]},
                    caption=_caption(sample.id),
                )
        self.stdout.write(f"field guide: {added} new example images from {folder}")
