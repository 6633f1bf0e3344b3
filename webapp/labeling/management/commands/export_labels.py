"""manage.py export_labels --format csv|json [--output FILE] [--excel]: every subject's row
of the labels export (webapp.labeling.exports: Gravity Spy's columns, consensus, votes,
retired label and the active model's top class), written as it is read; with --output, what
it holds and how it was made beside it, in FILE.about.json (exports.about)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ml.files import atomic_write
from webapp.labeling import exports
from webapp.labeling.models import Subject


class Command(BaseCommand):
    help = "Export every subject's labels and consensus as CSV or JSON."
    formats: tuple[str, ...] = ("csv", "json")
    counted = "subjects"  # what a row is, for the line that says how many were written

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=self.formats, default="csv")
        parser.add_argument("--output", help="file to write (default: standard output)")
        parser.add_argument(
            "--excel",
            action="store_true",
            help="CSV for Excel: start with a UTF-8 byte order mark, without which Excel "
            "misreads non-ASCII text (Python's csv module then needs encoding='utf-8-sig')",
        )

    def rows(self) -> Iterator[dict[str, Any]]:
        return exports.label_rows(Subject.objects.order_by("pk"))

    def encode(self, rows: Iterator[dict[str, Any]], form: str) -> Iterator[str]:
        return exports.as_json(rows) if form == "json" else exports.as_csv(rows)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["excel"] and options["format"] != "csv":
            raise CommandError("--excel is for --format csv")
        rows = 0

        def counted() -> Iterator[dict[str, Any]]:
            nonlocal rows
            for row in self.rows():
                rows += 1
                yield row

        def text() -> Iterator[str]:
            chunks = self.encode(counted(), options["format"])
            return exports.for_excel(chunks) if options["excel"] else chunks

        if options["output"]:
            target = Path(options["output"])
            if not target.parent.is_dir():
                raise CommandError(f"--output {target}: no folder {target.parent}")
            about = exports.about()  # as the rows are read, not once they are written
            # Written beside it and renamed when complete: a failed or interrupted export
            # leaves the previous file whole, never a truncated one, and the previous
            # sidecar with it.
            atomic_write(target, lambda out: out.writelines(text()), text=True)
            sidecar = target.with_name(target.name + ".about.json")
            atomic_write(sidecar, lambda out: json.dump(about, out, indent=2), text=True)
            self.stdout.write(f"wrote {rows} {self.counted} to {target}")
            self.stdout.write(f"wrote what they hold and how they were made to {sidecar}")
        else:
            for chunk in text():
                self.stdout.write(chunk, ending="")
