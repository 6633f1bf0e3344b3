"""manage.py export_labels --format csv|json [--output FILE]: per subject its consensus,
votes, retired label and the active model's prediction."""

from __future__ import annotations

import csv
import json
import sys

from django.core.management.base import BaseCommand

from webapp.labeling.models import Subject
from webapp.labeling.selectors import subject_vote_counts
from webapp.modeling.selectors import model_version_active

FIELDS = [
    "id",
    "external_id",
    "source",
    "ifo",
    "role",
    "status",
    "retired_label",
    "views",
    "n_votes",
    "n_none_votes",
    "posterior",
    "votes",
    "model_version",
    "predicted_label",
]


class Command(BaseCommand):
    help = "Export every subject's labels and consensus as CSV or JSON."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args, **options):
        model = model_version_active()
        rows = []
        subjects = Subject.objects.select_related("retired_label").order_by("pk")
        for subject in subjects.iterator(chunk_size=500):
            prediction = subject.predictions.filter(model_version=model).first() if model else None
            rows.append(
                {
                    "id": subject.pk,
                    "external_id": subject.external_id,
                    "source": subject.source,
                    "ifo": subject.ifo,
                    "role": subject.role,
                    "status": subject.status,
                    "retired_label": subject.retired_label.name if subject.retired_label else "",
                    "views": subject.views,
                    "n_votes": subject.n_votes,
                    "n_none_votes": subject.n_none_votes,
                    "posterior": subject.posterior,
                    "votes": subject_vote_counts(subject=subject),
                    "model_version": model.name if model else "",
                    "predicted_label": prediction.predicted_label if prediction else "",
                }
            )
        if options["output"]:
            with open(options["output"], "w", newline="") as out:
                self._write(rows, options["format"], out)
        else:
            self._write(rows, options["format"], sys.stdout)
        if options["output"]:
            self.stdout.write(f"wrote {len(rows)} subjects to {options['output']}")

    def _write(self, rows: list[dict], fmt: str, out) -> None:
        if fmt == "json":
            json.dump(rows, out, indent=1)
            out.write("\n")
            return
        writer = csv.DictWriter(out, fieldnames=FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    **row,
                    "posterior": json.dumps(row["posterior"]),
                    "votes": json.dumps(row["votes"]),
                }
            )
