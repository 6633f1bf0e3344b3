"""manage.py seed_demo: demo accounts, role groups, the class table and field-guide images.

Idempotent: run it as often as you like. Demo mode only (DEBUG), because it prints and sets
a known password. The field guide is filled as `load_field_guide` fills it (production's
way, no account), from the examples shipped in webapp/labeling/field_guide_examples
(docs/data_notice.md) unless --field-guide names another folder.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from webapp.accounts.roles import ADMIN, REVIEWER, ROLES, VOLUNTEER
from webapp.labeling import config
from webapp.labeling.models import GlitchClass
from webapp.labeling.services import glitch_classes_sync, volunteer_profile_get_or_create

# (username, role, level): `expert` is a volunteer who has reached the top level, so every
# class, batch labelling on the map and class proposals are open to it from the start.
DEMO_ACCOUNTS = (
    ("volunteer", VOLUNTEER, 1),
    ("expert", VOLUNTEER, None),  # None: the top level
    ("reviewer", REVIEWER, 1),
    ("admin", ADMIN, 1),
)


class Command(BaseCommand):
    help = (
        "Debug only: create the four demo users (volunteer, expert, reviewer, admin) with a "
        "known password, the role groups and classes, and fill the field guide as "
        "load_field_guide does."
    )

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
        call_command("load_field_guide", dir=options["field_guide"], stdout=self.stdout)
