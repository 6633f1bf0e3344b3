"""manage.py export_labels --format csv|json [--output FILE]: every subject's row of the
labels export (webapp.labeling.exports: Gravity Spy's columns, consensus, votes, retired
label and the active model's top class), written as it is read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ml.files import atomic_write
from webapp.labeling import exports
from webapp.labeling.models import Subject


class Command(BaseCommand):
    help = "Export every subject's labels and consensus as CSV or JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        encode = exports.as_json if options["format"] == "json" else exports.as_csv
        rows = 0

        def counted() -> Iterator[dict[str, Any]]:
            nonlocal rows
            for row in exports.label_rows(Subject.objects.order_by("pk")):
                rows += 1
                yield row

        if options["output"]:
            target = Path(options["output"])
            if not target.parent.is_dir():
                raise CommandError(f"--output {target}: no folder {target.parent}")
            # Written beside it and renamed when complete: a failed or interrupted export
            # leaves the previous file whole, never a truncated one.
            atomic_write(target, lambda out: out.writelines(encode(counted())), text=True)
            self.stdout.write(f"wrote {rows} subjects to {target}")
        else:
            for text in encode(counted()):
                self.stdout.write(text, ending="")
