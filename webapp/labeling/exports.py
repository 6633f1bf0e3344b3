"""The labels export: one row per glitch with Gravity Spy's columns (id, detector, event
time, metadata, label) plus our consensus (posterior, votes, retired, the model whose vote is
in it) and the active model's top class, as CSV or JSON, streamed.

Rows are read CHUNK subjects at a time (a server-side cursor on PostgreSQL, .iterator), and
each chunk's votes and predictions in one query each, so 100,000 subjects cost a few hundred
queries and never sit in memory together. On PostgreSQL all of them read one snapshot (one
REPEATABLE READ transaction): a vote cast while the export streams is in none of its rows,
not in a glitch's votes but missing from its n_votes.

What the rows cannot carry (when, which GlitchLab, the consensus rules in force, what each
column holds, Gravity Spy's licence and credit) is about(): /api/exports/about.json, and a
FILE.about.json beside the commands' --output. A sidecar: a CSV has no place for it, and
an object around the JSON array would break every reader of the array.

Who sees what: reviewers and admins every glitch (gold and validation included, with the
known label); volunteers only retired pool glitches, the crowd's published answers (gold
answers and open glitches' votes would let them game the queue and their level).

The votes export (vote_rows, VOTE_COLUMNS): one row per vote, every vote, late ones too,
each volunteer under a pseudonym (voter_pseudonym); reviewers and admins only, for the
same reasons and more (a gold glitch's votes and was_correct give its answer).
"""

from __future__ import annotations

import csv
import functools
import importlib.metadata
import json
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Count, F, QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac

from ml.metadata import gravityspy_id_in
from webapp.accounts.roles import is_reviewer
from webapp.labeling import config
from webapp.labeling.metadata import METADATA_ONLY_FIELDS
from webapp.labeling.models import Classification, Subject
from webapp.modeling.models import ModelVersion, Prediction
from webapp.modeling.selectors import model_version_active
from webapp.review.models import LabelChange
from webapp.spreadsheet import spreadsheet_cell

CHUNK = 1000

# The exports' format: the columns, their meaning and about.json's keys. One more whenever a
# reader's code would have to change (a column added, renamed, or its meaning changed); each
# version's changes are listed in docs/labelling.md ("Export format versions"). Said in
# about.json (format_version) and in every download's X-GlitchLab-Format-Version header and
# file name (api_exports). 1: the files before it was said (up to 2026-12-07).
FORMAT_VERSION = 2

# Each column and what it holds (about() hands this to the reader, in about.json): Gravity
# Spy's names where it has one (its metadata CSV: gravityspy_id, ifo, event_time, channel,
# peak_frequency, central_freq, bandwidth, duration, snr, q_value, label), then ours.
COLUMN_NOTES: dict[str, str] = {
    "subject_id": "GlitchLab's number of the glitch (the votes export's subject_id)",
    "external_id": "its id as imported (a simulation's or an ml scan trigger's: its manifest's)",
    "gravityspy_id": "Gravity Spy's id, without the detector: only for a glitch of one of "
    "sources.gravity_spy whose id has Gravity Spy's form (10 ASCII letters and digits); "
    "empty otherwise",
    "ifo": "detector: H1, L1, V1 ...",
    "event_time": "GPS seconds of the trigger (since 1980-01-06 00:00:00 UTC, not Unix "
    "time); named event_time_gps in the JSON",
    "channel": "e.g. H1:GDS-CALIB_STRAIN",
    "peak_frequency": "Hz, of the loudest tile",
    "central_freq": "Hz, the centre of the trigger's band",
    "bandwidth": "Hz",
    "duration": "s, of the glitch (not of an image's window)",
    "snr": "signal-to-noise ratio",
    "q_value": "Q of the loudest tile",
    "source": "the --source it was imported under",
    "simulated": "drawn by GlitchLab's simulator (sources.simulated): no LIGO glitch",
    "role": "pool (labelled by the volunteers), gold (a known answer that measures them), "
    "validation (a known label, never shown to volunteers)",
    "status": "active (collecting votes), retired (decided: label), closed (close_at_votes "
    "votes without a decision), discovery (none_votes_to_discovery None_of_the_Above votes)",
    "retired": "status is retired",
    "label": "the retired label (pool) or the known one (gold, validation); empty: none yet",
    "label_source": "how the label was reached: crowd, reviewer, remapped (an admin "
    "deprecated its class into this one), gold, new_class (gold of a class volunteers "
    "proposed), validation; empty: no label",
    "label_before_review": "the label before a reviewer or a remap first changed it",
    "retired_at": "when it retired, ISO 8601 UTC",
    "views": "counted votes that name a class (not None_of_the_Above)",
    "n_votes": "counted votes: cast before it retired (the votes export has the late ones)",
    "n_none_votes": "counted None_of_the_Above votes",
    "votes": "{class: counted votes}, by the class counted (the votes export has the chosen)",
    "posterior": "{class: W}: the counted votes' weights and the model's vote combined",
    "ml_label": "the active model's top class: today's model, not the one in posterior",
    "ml_confidence": "its probability",
    "model_version": "the active model's name, when it scored the glitch",
    # Last: a reader that counts columns still finds the others where they were.
    "consensus_model_version": "the model whose vote is in posterior (for a decided glitch, "
    "the one it was decided with); empty: no model's; unknown: not recorded (before "
    "2026-12-06)",
    "ml_probabilities": "{class: p}: the active model's probability of every class it knows "
    "(sums to 1; ml_label is the largest), for thresholds of your own; {}: not scored",
    "consensus_ml_probabilities": "{class: p}: the probabilities of the model named in "
    "consensus_model_version for this glitch, the model's vote that posterior combines with "
    "the counted votes' weights (the votes export), so that posterior can be rebuilt; empty "
    "(null in the JSON): no model's vote (consensus_model_version empty or unknown), or that "
    "model's prediction is no longer stored (an admin may delete an old model version, and "
    "its predictions go with it)",
    "label_changed_at": "when the review log last moved label: a reviewer's relabel, a "
    "class's deprecation, or the undo of a relabel, ISO 8601 UTC; retired_at stays when it "
    "retired; also when the changes cancel out (a relabel undone, or changes that took label "
    "back to where it started: label_source then says how it was first reached, "
    "label_before_review is empty), so that a reader of an export made in between finds the "
    "row changed; empty: never changed",
}
COLUMNS = list(COLUMN_NOTES)

# The JSON's names where they differ from the CSV's: pandas' read_json reads any column
# named *_time (or *_at, date, ...) as a date, and a number there as seconds since 1970: a
# GPS time (seconds since 1980-01-06) came out about ten years early, with no warning. The
# CSV keeps Gravity Spy's name (read_csv guesses no dates).
JSON_NAMES = {"event_time": "event_time_gps"}
JSON_COLUMNS = [JSON_NAMES.get(name, name) for name in COLUMNS]

# label_source: "crowd" (retired by the volunteers' weighted consensus), "reviewer" (a
# reviewer changed it, webapp/review: label_before_review has the one before), "remapped"
# (an admin deprecated its class and moved it to this one; label_before_review has the
# class), "gold" (a known answer: imported as gold, or a field-guide example), "new_class"
# (gold of a class volunteers proposed, seeded when an admin accepted it: their agreement,
# not an expert's), "validation" (the data set's label, never shown to volunteers), "" (no
# label yet). A changed label's source is its last change's (the review log, LabelChange).
LABEL_SOURCES = ("crowd", "reviewer", "remapped", "gold", "new_class", "validation", "")
_CHANGED_BY: dict[str, str] = {
    LabelChange.Cause.REVIEW: "reviewer",
    LabelChange.Cause.REMAP: "remapped",
}


def subjects_exportable(*, viewer: User, retired_only: bool = False) -> QuerySet:
    """The subjects the viewer may export (see the module's docstring), in id order."""
    subjects = Subject.objects.order_by("pk")
    if not is_reviewer(viewer):
        subjects = subjects.filter(role=Subject.Role.POOL, status=Subject.Status.RETIRED)
    elif retired_only:
        subjects = subjects.filter(status=Subject.Status.RETIRED)
    return subjects


def _chunks(subjects: QuerySet) -> Iterator[list[Subject]]:
    chunk: list[Subject] = []
    for subject in subjects.iterator(chunk_size=CHUNK):
        chunk.append(subject)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def label_rows(subjects: QuerySet) -> Iterator[dict[str, Any]]:
    """One dict per subject, COLUMNS in order; five queries per CHUNK subjects, all on one
    snapshot of the database on PostgreSQL. Not on SQLite: its transactions begin IMMEDIATE
    (webapp/settings.py), and one held open while a client reads would stop every write on
    the site. Inside a caller's transaction (a test's), that transaction's snapshot rules."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield from _rows(subjects)
        return
    # Open while the response streams (GLITCHLAB_EXPORTS_AT_ONCE of them at most): the
    # server keeps the row versions this snapshot sees until the export ends.
    with transaction.atomic():
        with connection.cursor() as cursor:  # each statement its own snapshot otherwise
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield from _rows(subjects)


def _rows(subjects: QuerySet) -> Iterator[dict[str, Any]]:
    model = model_version_active()
    # Versions by id, not a join on the name: SQLite then read every prediction of the
    # versions named for each chunk, where ids read them by their (version, subject) key.
    versions = dict(ModelVersion.objects.values_list("name", "pk"))
    for chunk in _chunks(subjects):
        ids = [s.pk for s in chunk]
        votes: dict[int, dict[str, int]] = {}
        counted = (
            # Late votes (cast after retirement) are kept but never counted, as in n_votes.
            Classification.objects.filter(subject_id__in=ids, after_retirement=False)
            .values_list("subject_id", "glitch_class_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        for subject_id, class_pk, n in counted:
            votes.setdefault(subject_id, {})[config.class_name(class_pk)] = n
        deciders = {s.consensus_model for s in chunk if s.consensus_model}
        named = {model.name} | deciders if model else deciders
        predictions = _predictions(ids, {versions[n]: n for n in named if n in versions})
        changed = _label_changes(ids)
        seeded = _seeded_by_volunteers(ids)
        for subject in chunk:
            change = changed.get(subject.pk)
            source = _label_source(subject, change.cause if change else "", subject.pk in seeded)
            decided = predictions.get((subject.pk, subject.consensus_model or ""))
            yield _row(
                subject,
                votes.get(subject.pk, {}),
                predictions.get((subject.pk, model.name)) if model else None,
                model,
                (source, change.first_label if change else ""),
                decided[2] if decided else None,
                change.at if change else None,
            )


@dataclass(frozen=True)
class _Change:
    cause: str  # the source its last change gives the label it exports
    first_label: str  # the label before the first change
    at: datetime  # when the last change was made


def _label_changes(ids: list[int]) -> dict[int, _Change]:
    """subject id -> how its exported label was changed: the review log
    (review.selectors.label_histories, the volunteers' pages' account too)."""
    from webapp.review.selectors import label_histories

    # A history that cancels out (a relabel undone; Blip -> Tomte -> Blip) leaves the label
    # the votes' (or the import's) again: no source or label before from the log; its time
    # stays, so that a reader of an export made in between finds the row changed.
    return {
        pk: _Change("", "", history.at)
        if history.cancelled_out
        else _Change(_CHANGED_BY[history.cause], history.before, history.at)
        for pk, history in label_histories(subject_ids=ids, cancelled_out=True).items()
    }


def _seeded_by_volunteers(ids: list[int]) -> set[int]:
    """The gold subjects whose class volunteers proposed on them (webapp/discovery's votes,
    through their relation to Subject): an accepted class's gold, seeded from agreement,
    which retired it with its gold label (discovery.services._seed_gold). Expert gold that
    a sheet's proposal vote fell on is not, unless the field guide shows it (which retires
    it with its label too): that case reads as seeded still."""
    return set(
        Subject.objects.filter(
            pk__in=ids,
            role=Subject.Role.GOLD,
            status=Subject.Status.RETIRED,
            retired_label=F("gold_label"),
            proposal_votes__proposal__glitch_class=F("gold_label"),
        ).values_list("pk", flat=True)
    )


def _label_source(subject: Subject, changed: str, seeded: bool) -> str:
    if subject.role == Subject.Role.VALIDATION:
        return "validation" if subject.source_label else ""
    if not (subject.retired_label_id or subject.gold_label_id):
        return ""
    if changed:
        return changed
    if subject.role == Subject.Role.GOLD:
        return "new_class" if seeded else "gold"
    return "crowd"


Scored = tuple[str, float | None, dict[str, float]]  # top class, its p, every class's p


def _predictions(ids: list[int], models: dict[int, str]) -> dict[tuple[int, str], Scored]:
    """(subject id, model name) -> its prediction, for the subjects and models (id: name): the
    active model's and those of the models that decided them, in one query. A version's
    predictions are written once and never changed (modeling.services.predictions_store),
    so a deciding model's are the probabilities its consensus mixed in, while they last."""
    if not models:
        return {}
    rows = Prediction.objects.filter(
        model_version_id__in=sorted(models), subject_id__in=ids
    ).values_list(
        "subject_id", "model_version_id", "predicted_label", "confidence", "probabilities"
    )
    return {
        (pk, models[version]): (label, p, probabilities)
        for pk, version, label, p, probabilities in rows
    }


def _row(
    subject: Subject,
    votes: dict[str, int],
    prediction: Scored | None,
    model: ModelVersion | None,
    provenance: tuple[str, str],
    decided_by: dict[str, float] | None,
    label_changed_at: datetime | None,
) -> dict[str, Any]:
    return {
        "subject_id": subject.pk,
        "external_id": subject.external_id,
        # only Gravity Spy's glitches: a simulation's id, or ml scan's, only looks like one;
        # and only an id of Gravity Spy's form (not a Zooniverse upload's zoo-<uuid>)
        "gravityspy_id": gravityspy_id_in(subject.external_id) if subject.from_gravity_spy else "",
        "ifo": subject.ifo,
        "event_time": subject.gps_time,
        **{name: getattr(subject, name, None) for name in METADATA_ONLY_FIELDS},
        "source": subject.source,
        "simulated": subject.simulated,
        "role": subject.role,
        "status": subject.status,
        "retired": subject.status == Subject.Status.RETIRED,
        "label": _label(subject),
        "label_source": provenance[0],
        "label_before_review": provenance[1],
        "retired_at": subject.retired_at.isoformat() if subject.retired_at else None,
        "views": subject.views,
        "n_votes": subject.n_votes,
        "n_none_votes": subject.n_none_votes,
        "votes": votes,
        "posterior": subject.posterior,
        "ml_label": prediction[0] if prediction else "",
        "ml_confidence": prediction[1] if prediction else None,
        "model_version": model.name if model and prediction else "",
        "consensus_model_version": consensus_model_version(subject),
        "ml_probabilities": prediction[2] if prediction else {},
        "consensus_ml_probabilities": decided_by,
        "label_changed_at": label_changed_at.isoformat() if label_changed_at else None,
    }


def consensus_model_version(subject: Subject) -> str:
    """The model whose vote the subject's consensus holds (Subject.consensus_model); ""
    when none voted; "unknown" for a posterior counted before that was recorded (NULL: rows
    from before migration labeling 0014), "" for such a row with no posterior (no vote
    counted, so none of a model's)."""
    if subject.consensus_model is None:
        return "unknown" if subject.posterior else ""
    return subject.consensus_model


def _label(subject: Subject) -> str:
    if subject.retired_label_id:
        return config.class_name(subject.retired_label_id)
    if subject.gold_label_id:
        return config.class_name(subject.gold_label_id)
    if subject.role == Subject.Role.VALIDATION:
        return subject.source_label  # known, but kept out of the crowd's tables
    return ""


# One row per vote (Classification), in the order cast; each column and what it holds.
VOTE_COLUMN_NOTES: dict[str, str] = {
    "vote_id": "the vote's own number",
    "subject_id": "the glitch: the labels export's subject_id",
    "external_id": "... and its id as imported",
    "voter": "the volunteer under a pseudonym: v and 16 hex digits, the same in every "
    "export of this site while its SECRET_KEY stays; never the username",
    "chosen_class": "the class the volunteer chose",
    "counted_class": "the class the consensus counts it as: chosen_class, unless an admin "
    "deprecated that class into this one",
    "remapped_from": "the deprecated class it was moved from (chosen_class); empty: never",
    # lambda_L W_i as the vote stored it when cast (services.classification_create).
    "weight": "{class: share}, the weight the vote carried when cast: the volunteer's "
    "confusion-matrix column for this answer then (P(true class | answer)) times their "
    "level's weight; a deprecated class's share moved to its new class; {} none (too "
    "little gold history for the class, or a gold glitch's vote). Levels and skill today "
    "are not exported",
    "was_gold": "scored as a gold answer: it measured the volunteer, it did not label",
    "was_correct": "a gold answer's: right or not by the gold label now (a reviewer's "
    "relabel marks it again); empty otherwise",
    "after_retirement": "cast after the glitch retired: kept, never counted",
    "seconds_taken": "as the volunteer's client reported it; empty: not reported",
    "created_at": "when it was cast, ISO 8601 UTC",
}
VOTE_COLUMNS = list(VOTE_COLUMN_NOTES)


def voter_pseudonym(user_id: int) -> str:
    """A volunteer's name in the votes export: "v" and 16 hex digits of an HMAC of the
    account's id keyed by GLITCHLAB_PSEUDONYM_KEY, or, unset, the site's SECRET_KEY (as
    before it existed: the same pseudonyms). The same account has the same one in every
    export while that key stays, a rotated SECRET_KEY too once the setting holds its own;
    from the file alone nobody can tell whose it is (ids count up; usernames are shown on
    Talk)."""
    key = settings.GLITCHLAB_PSEUDONYM_KEY or settings.SECRET_KEY
    mac = salted_hmac("glitchlab.exports.voter", str(user_id), secret=key, algorithm="sha256")
    return "v" + mac.hexdigest()[:16]


def vote_rows() -> Iterator[dict[str, Any]]:
    """One dict per vote, VOTE_COLUMNS, in the order cast: one query read CHUNK rows at a
    time (a server-side cursor on PostgreSQL), so one snapshot of the votes, and memory
    that does not grow with them (a pseudonym per voter)."""
    votes = (
        Classification.objects.order_by("pk")
        .values_list(
            "pk",
            "subject_id",
            "subject__external_id",
            "volunteer_id",
            "glitch_class_id",
            "remapped_from_id",
            "weight",
            "was_gold",
            "was_correct",
            "after_retirement",
            "seconds_taken",
            "created_at",
        )
        .iterator(chunk_size=CHUNK)
    )
    voters: dict[int, str] = {}
    for pk, subject_id, external_id, voter, counted, remapped, *rest in votes:
        weight, was_gold, was_correct, late, seconds, created = rest
        if voter not in voters:
            voters[voter] = voter_pseudonym(voter)
        moved_from = config.class_name(remapped) if remapped else ""
        yield {
            "vote_id": pk,
            "subject_id": subject_id,
            "external_id": external_id,
            "voter": voters[voter],
            "chosen_class": moved_from or config.class_name(counted),
            "counted_class": config.class_name(counted),
            "remapped_from": moved_from,
            "weight": weight,
            "was_gold": was_gold,
            "was_correct": was_correct,
            "after_retirement": late,
            "seconds_taken": seconds,
            "created_at": created.isoformat(),
        }


class _Line:
    """A file-like csv.writer target that hands back what it was given."""

    def write(self, value: str) -> str:
        return value


def as_csv(rows: Iterable[dict[str, Any]], columns: list[str] = COLUMNS) -> Iterator[str]:
    """CSV text, a header then one line per row; dict columns as JSON, None as empty; a text
    cell that a spreadsheet would run as a formula (an id from an imported file's name,
    '=HYPERLINK(...)') starts with an apostrophe (webapp.spreadsheet). JSON is exact."""
    writer = csv.writer(_Line())
    yield writer.writerow(columns)
    for row in rows:
        yield writer.writerow(
            [
                json.dumps(value, sort_keys=True)
                if isinstance(value, dict)
                else ("" if value is None else spreadsheet_cell(value))
                for value in (row[name] for name in columns)
            ]
        )


# Excel opens a CSV in the system's code page (cp1252 in Western Windows) unless it starts
# with a UTF-8 byte order mark: "Glitché-Ω" read "GlitchÃ©-Î©", and an id copied back no
# longer matched. Only on request (?excel=1, --excel): Python's csv module reading a file
# opened as "utf-8" (not "utf-8-sig") calls the first column "\ufeffsubject_id", and shell
# tools see three more bytes. pandas' read_csv drops the mark either way.
BOM = "\ufeff"


def for_excel(chunks: Iterable[str]) -> Iterator[str]:
    """The CSV text after a UTF-8 byte order mark, which tells Excel its encoding."""
    yield BOM
    yield from chunks


def as_json(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A JSON array of the rows, one per line, named as JSON_COLUMNS."""
    yield "["
    separator = "\n"
    for row in rows:
        yield separator + json.dumps({JSON_NAMES.get(name, name): v for name, v in row.items()})
        separator = ",\n"
    yield "\n]\n"


MODELS_NOTE = (
    "models: each model version the labels export names (model_version, "
    "consensus_model_version): checkpoint_sha256, the sha256 of its checkpoint file, read "
    "when it was registered (null: not known, a version registered before 2026-12-08); "
    "created_at, when it was registered, ISO 8601 UTC; backbone, its network "
    "(TrainConfig.backbone; null: its training run was deleted); n_train_glitches, the "
    "labelled glitches it trained on (pool glitches self-training added are not counted). "
    "null: the version was deleted since."
)

# Gravity Spy's terms, as docs/data_notice.md gives them: what a file passed on must carry
# when it holds Gravity Spy's glitches.
GRAVITY_SPY_TERMS = {
    "applies_to": "the glitches of sources.gravity_spy: Gravity Spy / LIGO data (their "
    "images, ids and metadata). Other glitches, and the volunteers' votes and labels made "
    "on this site, are its operator's: ask them for their terms.",
    "licence": "CC BY 4.0 (Creative Commons Attribution 4.0 International, "
    "https://creativecommons.org/licenses/by/4.0/)",
    "credit": [
        "M. Zevin et al., Gravity Spy: integrating Advanced LIGO detector characterization, "
        "machine learning, and citizen science, Class. Quantum Grav. 34 064003 (2017)",
        "S. Bahaadini et al., Machine learning for Gravity Spy: Glitch classification and "
        "dataset, Information Sciences 444 172-186 (2018)",
        "The Gravity Spy training set, doi:10.5281/zenodo.1476551",
        "The Gravity Spy volunteers on Zooniverse and the LIGO Scientific Collaboration",
    ],
}


def about(*, full: bool = True, subjects: QuerySet | None = None) -> dict[str, Any]:
    """What a reader of the exports needs beside their rows: when this was made, by which
    GlitchLab, under which consensus rules (settings and per-class thresholds, read where
    the consensus reads them: webapp.labeling.config), what each column holds, and Gravity
    Spy's licence and credit. The rules are those in force now: a label decided earlier
    (retired_at) was decided under the rules then, which are not recorded.

    `models` describes each model version the export of `subjects` names (the active one,
    and each consensus_model_version among them; all subjects if None, as the commands
    export them).

    Not `full` (a volunteer's, whose labels export it describes): without glitchlab, the
    exact code (which known bugs it has), and with only the bar of the consensus rules
    (PUBLIC_RULES), not its weights (min_gold_to_weigh, prior_alpha: what a scorer games),
    those being the operator's and the reviewers'. The active model's name is everyone's: a
    volunteer reads it in their export's model_version and on every glitch they voted on
    (the attacker review of 2026-12-07 found it withheld here only)."""
    model = model_version_active()
    made: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "generated_at": timezone.now().isoformat(),
    }
    if full:
        made.update(_how_decided())
    else:
        made["consensus"] = _rule_public()
    made["active_model"] = model.name if model else ""
    made["models"] = models_described(
        subjects if subjects is not None else Subject.objects.all(), active=model
    )
    return {
        **made,
        "sources": {
            "gravity_spy": list(settings.GLITCHLAB_GRAVITYSPY_SOURCES),
            "simulated": list(settings.GLITCHLAB_SIMULATED_SOURCES),
        },
        "columns": {
            "labels": COLUMN_NOTES,
            "labels_json_names": JSON_NAMES,
            "votes": VOTE_COLUMN_NOTES,
        },
        "models_note": MODELS_NOTE,
        "gravity_spy_data": GRAVITY_SPY_TERMS,
    }


# The consensus rule's bar, for everyone: how sure (retire_threshold, and each class's own,
# class_retire_thresholds) after how many votes that weigh (retire_min_views), and when a
# glitch stops collecting votes undecided (close_at_votes). Gravity Spy publishes its rule
# in this form, and the defaults are in the code anyone can read. Alone they do not tell a
# volunteer when their own vote weighs or how much: the weights (prior_alpha,
# prior_weight, min_gold_to_weigh, level_weights) do, and stay the reviewers'.
PUBLIC_RULES = ("retire_threshold", "retire_min_views", "close_at_votes")


def _rule_public() -> dict[str, Any]:
    rules = asdict(config.consensus_rules())
    return {
        **{name: rules[name] for name in PUBLIC_RULES},
        "class_retire_thresholds": config.class_retire_thresholds(),
        "note": "the rule's bar in force when this file was made (settings GLITCHLAB_<NAME>, "
        "upper case; class_retire_thresholds from the class table, each overriding "
        "retire_threshold for its class). How much each vote weighs is the reviewers'. A "
        "glitch retired earlier (retired_at) was decided under the rules then, which are "
        "not recorded.",
    }


def models_described(subjects: QuerySet, *, active: ModelVersion | None) -> dict[str, Any]:
    """name -> what identifies each model version the labels export of `subjects` names
    (model_version: the active one; consensus_model_version), read from what the version
    row stores: never a file (its sha256 was read once, when it was registered). None for a
    name whose version was deleted since."""
    names = set(
        subjects.exclude(consensus_model__isnull=True)
        .exclude(consensus_model__in=("", "unknown"))
        .order_by()
        .values_list("consensus_model", flat=True)
        .distinct()
    )
    if active is not None:
        names.add(active.name)
    described: dict[str, Any] = dict.fromkeys(sorted(names))
    versions = ModelVersion.objects.filter(name__in=names).select_related("training_run")
    for version in versions.only(
        "name", "checkpoint_sha256", "created_at", "train_subject_ids", "training_run__config"
    ):
        run = version.training_run
        described[version.name] = {
            "checkpoint_sha256": version.checkpoint_sha256 or None,
            "created_at": version.created_at.isoformat(),
            "backbone": (run.config.get("backbone") if run else None) or None,
            "n_train_glitches": len(version.train_subject_ids),
        }
    return described


def _how_decided() -> dict[str, Any]:
    """about()'s part for reviewers, admins and the commands: the code and the rules."""
    rules = config.consensus_rules()
    return {
        "glitchlab": glitchlab_version(),
        "consensus": {
            **asdict(rules),
            "level_weights": list(rules.level_weights),
            "class_retire_thresholds": config.class_retire_thresholds(),
            "new_class_gold_min_volunteers": config.new_class_gold_min_volunteers(),
            "note": "in force when this file was made: settings GLITCHLAB_<NAME> (upper "
            "case), class_retire_thresholds from the class table (each overrides "
            "retire_threshold for its class). A glitch retired earlier (retired_at) was "
            "decided under the rules then, which are not recorded; consensus_model_version "
            "names the model whose vote is in its posterior.",
        },
    }


def glitchlab_version() -> dict[str, str | None]:
    """The package's version, and the code's where known: GLITCHLAB_SOURCE_VERSION (set
    when the image is built), else `git describe` of the checkout it runs from; None for
    what is not known. Both are read once per process: the web process reads them as it
    starts (webapp.wsgi), so no request waits on git (up to 10 s) or the package's files."""
    return {
        "version": _package_version(),
        "source": settings.GLITCHLAB_SOURCE_VERSION or _git_describe(),
    }


@functools.cache
def _package_version() -> str | None:
    try:
        return importlib.metadata.version("glitchlab")
    except importlib.metadata.PackageNotFoundError:
        return None


@functools.cache
def _git_describe() -> str | None:
    """`git describe --always --dirty` of the app's folder, once per process (local only:
    no network); None without git or a checkout (the image has neither)."""
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None
