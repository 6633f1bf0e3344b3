"""manage.py export_votes [--output FILE] [--excel]: every vote, one row each, as CSV
(webapp.labeling.exports.VOTE_COLUMNS; each volunteer under a pseudonym), written as it is
read; export_labels' options, CSV only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from webapp.labeling import exports
from webapp.labeling.management.commands import export_labels


class Command(export_labels.Command):
    help = "Export every vote (volunteers under pseudonyms) as CSV."
    formats = ("csv",)
    counted = "votes"

    def rows(self) -> Iterator[dict[str, Any]]:
        return exports.vote_rows()

    def encode(self, rows: Iterator[dict[str, Any]], form: str) -> Iterator[str]:
        return exports.as_csv(rows, exports.VOTE_COLUMNS)
