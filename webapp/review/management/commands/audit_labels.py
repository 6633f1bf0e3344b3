"""manage.py audit_labels: rank suspected mislabels now, in this process (or --queue it)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from webapp.review import services
from webapp.review.models import AuditRun


class Command(BaseCommand):
    help = "Audit every retired and gold label (out-of-fold + confident learning + votes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--queue", action="store_true", help="hand the run to a default-queue worker"
        )

    def handle(self, *args: Any, queue: bool = False, **options: Any) -> None:
        try:
            run = services.audit_run_request(trigger=AuditRun.Trigger.COMMAND, enqueue=queue)
        except services.AuditAlreadyLiveError as exc:
            raise CommandError(str(exc)) from None
        if queue:
            self.stdout.write(f"audit {run.pk} queued")
            return
        from tasks.review import audit_labels

        audit_labels.apply(args=[run.pk]).get()
        run.refresh_from_db()
        self.stdout.write(
            f"audit {run.pk} {run.status}: {run.n_subjects} subjects ({run.n_gold} gold), "
            f"{run.n_issues} flagged, {run.suspects.count()} suspects stored"
        )
