"""manage.py import_glitches DIR [--role pool|gold|validation] [--source NAME] [--gold-fraction F]
                              [--metadata CSV ...]

Reads every layout ml.data reads, copies the images into MEDIA_ROOT and creates one Subject
per glitch. Re-running adds nothing twice (a glitch already imported keeps its role and
label; where this import says otherwise, a note names both); bad files are reported one
line each and skipped.
A glitch whose durations were saved under several ids (found by their shared noise,
ml.fingerprint.merge_split_glitches) becomes one Subject with every view, under the first
id; views of one glitch with two labels are imported apart and named on stderr. Only the
glitches of one run are merged; a glitch that lacks a duration and shows the same glitch as a
subject imported before is imported apart, with a note naming that subject (its views are
not added to a subject that volunteers may already have seen). A glitch already imported under
another --source name (the same id, and a byte-identical image or one whose noise is the
same, ml.fingerprint: a Kaggle crop of a Zenodo plot) is skipped with a note, so importing a
folder or another copy of an archive under a new name does not hold every glitch twice (nor
put one glitch in training and validation); a namesake showing another glitch is imported.
A glitch to be gold (--role gold, or picked by --gold-fraction) that the field guide shows
(an example's glitch id, or the same glitch by ml.fingerprint) is imported as pool instead,
with a note: the guide shows its answer to everyone.

Each glitch's metadata (ml.metadata: event time, detector, frequencies, SNR, Q, channel)
comes from the manifest it was listed in and from Gravity Spy metadata CSVs given with
--metadata (keyed by gravityspy_id; these win over the manifest). A bad value is reported
one line each and left empty, the glitch and its other values are still imported, and a
value already stored is never cleared: re-running with a metadata CSV fills in subjects
imported before.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ml.classes import ClassRegistry
from ml.data import Sample, load_samples
from ml.fingerprint import SplitGlitches, merge_split_glitches
from ml.metadata import METADATA_COLUMNS, MetadataTable, first_known, read_metadata
from webapp.labeling.metadata import metadata_path_of, subject_import_with_metadata
from webapp.labeling.models import GlitchClass, Subject
from webapp.labeling.selectors import (
    external_ids_imported,
    glitches_imported_before,
    glitches_in_field_guide,
    last_subject_pk,
    subject_shows_glitch,
    subjects_imported_elsewhere,
)


def _in_fraction(glitch_id: str, fraction: float) -> bool:
    """A stable pseudo-random choice by id, so a re-run picks the same glitches."""
    digest = hashlib.sha256(glitch_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < fraction


def _twin(image_paths: dict[float, Path], others: list[Subject]) -> tuple[Subject, str] | None:
    """The subject of another source that holds this glitch, and how (its images, or the
    same glitch rendered otherwise)."""
    for other in others:
        if (how := subject_shows_glitch(subject=other, image_paths=image_paths)) is not None:
            return other, how
    return None


class Command(BaseCommand):
    help = "Import glitch spectrograms (any layout ml.data reads) as subjects."

    def add_arguments(self, parser: CommandParser) -> None:
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
        parser.add_argument(
            "--metadata",
            action="append",
            default=[],
            metavar="CSV",
            help="Gravity Spy metadata CSV (gravityspy_id, event_time, ifo, peak_frequency, "
            "central_freq, bandwidth, duration, snr, q_value, channel); repeatable",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        roots = [Path(d) for d in options["directory"]]
        metadata_files = [Path(m) for m in options["metadata"]]
        for root in [*roots, *metadata_files]:
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
        for note in result.notes:
            self.stderr.write(f"note: {note}")
        split = merge_split_glitches(result.samples)
        for line in split.report({s.id: s.label for s in result.samples}):
            self.stderr.write(f"note: {line}")
        tables = self._metadata(roots, metadata_files)

        elsewhere = subjects_imported_elsewhere(
            external_ids=[s.id for s in split.samples], source=source
        )

        def role_of(sample: Sample) -> str:
            if (
                options["role"] == "pool"
                and sample.label in registry
                and _in_fraction(sample.id, options["gold_fraction"])
            ):
                return Subject.Role.GOLD
            return str(options["role"])

        gold = [s for s in split.samples if role_of(s) == Subject.Role.GOLD]
        again = external_ids_imported(external_ids=[s.id for s in gold], source=source)
        in_guide = self._in_field_guide(gold, split, again)
        before = last_subject_pk()
        created = existing = failed = described = twice = public = 0
        new_samples = []
        for sample in split.samples:
            views = sample.views()
            # an undated file fills every slot, each a stand-in: none is its own view
            image_paths = views or dict(sample.paths)
            stand_ins = () if views else tuple(sample.paths)
            twin = _twin(image_paths, elsewhere.get(sample.id, []))
            if twin is not None:
                twice += 1
                self.stderr.write(
                    f"note: {sample.id} was imported from source {twin[0].source!r} with "
                    f"{twin[1]}: skipped"
                )
                continue
            role = role_of(sample)
            # Its answer is in the public guide: as gold it would score whoever looked.
            shown_in_guide = role == Subject.Role.GOLD and sample.id in in_guide
            if shown_in_guide:
                role = Subject.Role.POOL
            metadata = first_known([m for t in tables if (m := t.get(sample.id)) is not None])
            try:
                subject, was_created, changed = subject_import_with_metadata(
                    metadata=metadata,
                    external_id=sample.id,
                    source=source,
                    role=role,
                    label=sample.label,
                    image_paths=image_paths,
                    substituted=stand_ins,
                    ifo=sample.ifo or "",
                )
            except (ValidationError, OSError) as error:
                failed += 1
                reason = "; ".join(getattr(error, "messages", [str(error)]))
                self.stderr.write(f"skipped {sample.id}: {reason}")
                continue
            said, held = (role, sample.label or ""), (subject.role, subject.source_label)
            serving_as_gold = subject.is_gold and subject.status == Subject.Status.ACTIVE
            if shown_in_guide and not was_created and serving_as_gold:
                # The import changes no subject it holds; the guide's own check retires it.
                self.stderr.write(
                    f"note: {sample.id} is already gold subject {subject.pk}, and it "
                    f"{in_guide[sample.id]}, where its answer is public: kept as it was; "
                    "`manage.py load_field_guide` (run at each start of the web service) "
                    "retires it"
                )
            elif not was_created and said != held and not shown_in_guide:
                self.stderr.write(
                    f"note: {sample.id} is already subject {subject.pk} ({held[0]}, labelled "
                    f"{held[1] or 'nothing'!r}); this import says {said[0]}, "
                    f"{said[1] or 'nothing'!r}: kept as it was (a reviewer relabels on the "
                    "review page)"
                )
            if shown_in_guide and was_created:
                public += 1
                self.stderr.write(
                    f"note: {sample.id} {in_guide[sample.id]}, where its answer is public: "
                    "imported as pool, not gold"
                )
            created += was_created
            existing += not was_created
            described += bool(changed)
            if was_created:
                new_samples.append(sample)
        earlier = glitches_imported_before(samples=new_samples, up_to_pk=before)
        if earlier.not_compared:
            self.stderr.write(
                "note: subjects imported before that lack a duration hold "
                f"{earlier.not_compared} views, too many to compare: this import's glitches "
                "were not looked for among them"
            )
        for found in earlier.found:
            old = found.subject
            self.stderr.write(
                f"note: {found.external_id} shows the same glitch as subject {old.pk} "
                f"({old.external_id}, source {old.source!r}) imported before: both kept; import "
                "a glitch's durations in one run to have them made one subject"
            )
        n_problems = len(result.problems) + failed + sum(len(t.problems) for t in tables)
        self.stdout.write(
            f"imported {created} new subjects from {', '.join(map(str, roots))} "
            f"(source {source!r}); {existing} already present; {twice} already imported "
            f"from another source (skipped); metadata written for "
            f"{described}; {n_problems} problems"
            + (f"; {public} gold shown in the field guide imported as pool" if public else "")
        )

    def _in_field_guide(
        self, gold: list[Sample], split: SplitGlitches, again: set[str]
    ) -> dict[str, str]:
        """The gold glitches of this import that the field guide shows (their id, or their
        image, ml.fingerprint) -> why; a note when there were too many to compare by image.
        Those this source already holds (`again`: a re-run, which imports them no more) are
        compared by id only."""
        merged = {ids[0]: ids[1:] for ids in split.merged}
        new = [s for s in gold if s.id not in again]
        check = glitches_in_field_guide(samples=new, other_ids=merged)
        held = [s for s in gold if s.id in again]
        check.found.update(
            glitches_in_field_guide(samples=held, other_ids=merged, by_id_only=True).found
        )
        if check.not_compared:
            self.stderr.write(
                f"note: {check.not_compared} gold glitches, too many to compare with the field "
                "guide's examples by image: compared by id only"
            )
        return check.found

    def _metadata(self, roots: list[Path], files: list[Path]) -> list[MetadataTable]:
        """The metadata tables to look glitches up in, a field's first value winning: the
        --metadata files in the order given, then the roots' manifests. Problems go to
        stderr."""
        tables = []
        manifests = [m for m in map(metadata_path_of, roots) if m is not None]
        for path in [*files, *manifests]:
            table = read_metadata(path)
            if path in files and not table:
                # A file named on purpose that yields nothing is a mistake: stop before
                # anything is written.
                why = "; ".join(table.problems) or (
                    f"{path}: none of the metadata columns ({', '.join(METADATA_COLUMNS)})"
                )
                raise CommandError(f"--metadata {why}")
            for problem in table.problems:
                self.stderr.write(f"metadata: {problem}")
            tables.append(table)
        return tables
