"""Reads of the labelling app: the volunteer's queue, their classes and progress."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar, cast

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet

from ml.data import image_stream_problem
from webapp.accounts.roles import is_reviewer
from webapp.hot_sql import select
from webapp.labeling import config, consensus
from webapp.labeling.models import (
    Classification,
    GlitchClass,
    GlitchClassExample,
    Subject,
    SubjectImage,
    VolunteerProfile,
)

if TYPE_CHECKING:
    from webapp.review.selectors import LabelHistory


def _profile_of(volunteer: User) -> VolunteerProfile:
    """The volunteer's profile, or an unsaved level-1 one for an account that never voted."""
    profile = VolunteerProfile.objects.filter(user=volunteer).first()
    return profile if profile is not None else VolunteerProfile(user_id=volunteer.pk)


def glitch_classes_for_level(*, level: int) -> list[GlitchClass]:
    """The active classes a volunteer of this level may choose, in level order, with
    None_of_the_Above last."""
    names = config.classes_unlocked_at_level(level)
    classes = GlitchClass.objects.filter(
        name__in=names, status=GlitchClass.Status.ACTIVE
    ).prefetch_related(Prefetch("examples", queryset=GlitchClassExample.objects.order_by("pk")))
    rows = {c.name: c for c in classes}
    return [rows[name] for name in names if name in rows]


def glitch_classes_for_volunteer(*, volunteer: User) -> list[GlitchClass]:
    return glitch_classes_for_level(level=_profile_of(volunteer).level)


# A subject's images, shortest duration first, as the pages and the API show them: set by
# the selectors that hand out subjects (a prefetch with to_attr, or the queue's own query).
IMAGES = "images_in_order"


def _with_images(queryset: QuerySet[Subject]) -> QuerySet[Subject]:
    in_order = SubjectImage.objects.order_by("duration")
    return queryset.prefetch_related(Prefetch("images", queryset=in_order, to_attr=IMAGES))


def subject_next_for_volunteer(
    *,
    volunteer: User,
    exclude_ids: Iterable[int] = (),
    profile: VolunteerProfile | None = None,
) -> Subject | None:
    """The next subject to show: fits the volunteer's level, not yet answered by them,
    still collecting votes; highest priority first, with gold mixed in at GLITCHLAB_GOLD_RATE.
    A gold subject handed to them before and not yet answered (profile.gold_due) is served
    first, on any turn, unless it is excluded, and no other gold is served until they answer
    it; services.subject_next_hand_out records it.

    exclude_ids lets the page ask for the subject after the one on screen (to preload it);
    pass the volunteer's profile when it is in hand (a vote just saved it).

    The gold due comes back on any turn, not on gold turns only: a glitch passed over
    (`exclude`) and asked for again came back on a pool turn (four in five) when it was a
    pool glitch at the head of the queue and on a gold turn (one in five) when it was gold,
    so passing over a glitch once told gold from pool (13 of 14 gold against 10 of 46 pool
    in a reviewer's run). Now the gold comes back every time and the pool glitch unless a
    gold turn hands out a new gold: one pass tells little (docs/security.md).
    """
    if profile is None:
        profile = _profile_of(volunteer)
    level = profile.level
    gold_labels = _gold_labels_unlocked(level)
    gold = (
        f"role = '{Subject.Role.GOLD}' AND gold_label_id IN {_in(gold_labels)}",
        gold_labels,
    )
    excluded = [pk for pk in exclude_ids if 0 < pk <= MAX_ID]
    due_rows = _gold_due_rows(volunteer, profile, gold)
    if due_rows and profile.gold_due_id not in excluded:
        return _pick_spread(due_rows, volunteer)
    gold_turn = is_gold_turn(volunteer.pk, profile.n_classified, config.gold_rate())
    pool = (f"role = '{Subject.Role.POOL}' AND level <= %s", [level])
    for role in ("gold", "pool") if gold_turn else ("pool", "gold"):
        if role == "pool":
            candidates = _queue_head(volunteer, *pool, excluded)
        elif due_rows:  # excluded (on screen, or passed over): no other gold meanwhile
            candidates = []
        else:
            candidates = _queue_head(volunteer, *gold, excluded, limit=GOLD_WINDOW)
        if candidates:
            pick = _gold_order_key(volunteer) if role == "gold" else None
            return _pick_spread(candidates, volunteer, pick)
    return None


# Gold is handed out from the first GOLD_WINDOW open gold subjects a volunteer has not
# answered (in queue order), in an order of their own (_gold_order_key): in queue order
# every account met the same gold in the same order, so a scout account's table of answers
# served every account that came after it.
GOLD_WINDOW = 256


def _gold_order_key(volunteer: User) -> Callable[[tuple], bytes]:
    """The volunteer's own order of gold subjects, keyed by the site's SECRET_KEY: the same
    every time for them, another for anyone else, not to be foreseen without the secret."""
    key = _site_mac(f"gold-order:{volunteer.pk}")
    subject_id = QUEUE_COLUMNS.index("id")

    def order(row: tuple) -> bytes:
        mac = key.copy()
        mac.update(str(row[subject_id]).encode())
        return mac.digest()

    return order


def is_gold_turn(volunteer_id: int, n_classified: int, rate: float) -> bool:
    """Whether the volunteer's next turn (after n_classified votes) serves gold: a draw
    with probability `rate`, keyed by the site's SECRET_KEY, the account and the turn.

    Fixed for a turn (asking again, a refresh or a second tab, draws the same) and not to
    be foreseen without the secret. The rule before (gold while the volunteer's share of
    gold answers was below the rate) could be read off /api/progress's counts: an account
    answered gold with care and the rest anyhow, and kept the full weight its gold earned
    for its careless votes (docs/security.md).
    """
    digest = _site_mac(f"gold-turn:{volunteer_id}:{n_classified}").digest()
    return int.from_bytes(digest[:8], "big") < rate * 2**64


def _site_mac(message: str) -> hmac.HMAC:
    """HMAC-SHA256 of `message` keyed by the site's SECRET_KEY: the draws and orders of the
    queue that nobody without the secret may foresee."""
    return hmac.new(settings.SECRET_KEY.encode(), message.encode(), hashlib.sha256)


def _gold_labels_unlocked(level: int) -> list[int]:
    """The class ids whose gold subjects a volunteer of this level is served."""
    unlocked = set(config.classes_unlocked_at_level(level))
    return [row.pk for row in config.class_table() if row.name in unlocked]


def subjects_within_level(*, volunteer: User) -> Q:
    """The queue's level rule (subject_next_for_volunteer) as a filter on Subject: pool
    subjects routed to the volunteer's level or below, gold subjects of a class they have
    unlocked. The sheets read it (webapp.discovery.selectors.subjects_open_for): a lasso
    took any glitch, so a level-2 account voted on the glitches routed to the top level.
    Gold of a locked class is left out as a pool glitch routed above is."""
    level = _profile_of(volunteer).level
    pool = Q(role=Subject.Role.POOL, level__lte=level)
    return pool | Q(role=Subject.Role.GOLD, gold_label_id__in=_gold_labels_unlocked(level))


def _gold_due_rows(
    volunteer: User, profile: VolunteerProfile, gold: tuple[str, list[int]]
) -> list[tuple]:
    """The volunteer's gold due as a queue row, while it is still open, unanswered by them
    and of a class they have unlocked; [] otherwise (then any gold may be served)."""
    if profile.gold_due_id is None:
        return []
    return _queue_head(volunteer, f"{gold[0]} AND id = %s", [*gold[1], profile.gold_due_id], [])


def _in(values: list[int]) -> str:
    return f"({', '.join(['%s'] * len(values))})" if values else "(NULL)"


# What the queue reads of a subject: what the page shows (SubjectToLabelSerializer), the
# role (a gold one handed out is recorded) and the priority, none of which needs converting
# from the database's types. Any other field read off a queued subject costs a query.
QUEUE_COLUMNS = ("id", "ifo", "role", "priority")


def _queue_head(
    volunteer: User,
    role_sql: str,
    role_params: list[int],
    excluded: list[int],
    limit: int = 0,
) -> list[tuple]:
    """The first `limit` (SPREAD_TIES_OVER) open subjects of a role the volunteer has not
    answered, in queue order, as QUEUE_COLUMNS rows. A subject whose pictures the server
    found broken (Subject.pictures_problem) is nobody's to label until they are mended.

    SQL written out (webapp.hot_sql: it runs on every vote). The status is a literal so that
    PostgreSQL reads the partial index "queue_order" (open subjects by role and priority)
    from the top, also in a prepared statement's generic plan. NOT EXISTS, not NOT IN: it
    probes the volunteer's votes for the few rows read from the top, where NOT IN hashed
    their whole history on every request (bench/queue_history.py, 20,000 past votes:
    3.6 ms -> 0.45 ms).
    """
    sql = (
        f"SELECT {', '.join(QUEUE_COLUMNS)} FROM labeling_subject"
        f" WHERE status = '{Subject.Status.ACTIVE}' AND {role_sql} AND pictures_problem = ''"
        " AND NOT EXISTS (SELECT 1 FROM labeling_classification answered"
        " WHERE answered.volunteer_id = %s AND answered.subject_id = labeling_subject.id)"
        + (f" AND id NOT IN {_in(excluded)}" if excluded else "")
        + f" ORDER BY priority DESC, id LIMIT {int(limit or SPREAD_TIES_OVER)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*role_params, volunteer.pk, *excluded])
        return cursor.fetchall()


# Volunteers who would get the same subject (equal top priority) are spread over up to this
# many of them, by account: otherwise every concurrent volunteer queues on one subject's row
# lock and, once it retires, the rest of their votes on it are wasted.
SPREAD_TIES_OVER = 16


def _pick_spread(
    candidates: list[tuple], volunteer: User, order: Callable[[tuple], bytes] | None = None
) -> Subject:
    """One of the candidates, with its images: the first in `order` when given (the gold
    window: priorities play no part, or a gold an admin raised came first for every account),
    else one of those sharing the top priority, chosen by account."""
    if order:
        row = min(candidates, key=order)
    else:
        priority = QUEUE_COLUMNS.index("priority")
        ties = [row for row in candidates if row[priority] == candidates[0][priority]]
        row = ties[(volunteer.pk or 0) % len(ties)]
    chosen = Subject.from_db(connection.alias, QUEUE_COLUMNS, row)
    images = "FROM labeling_subjectimage WHERE subject_id = %s ORDER BY duration"
    setattr(chosen, IMAGES, select(SubjectImage, images, [chosen.pk]))
    return chosen


MAX_ID = 2**63 - 1  # a larger id from a URL would overflow PostgreSQL's bigint


def subject_get(*, subject_id: int) -> Subject | None:
    if not 0 < subject_id <= MAX_ID:
        return None
    return (
        _with_images(Subject.objects.select_related("gold_label", "retired_label"))
        .filter(pk=subject_id)
        .first()
    )


def subject_image_problems(*, subject: Subject) -> dict[str, str]:
    """What is wrong with the subject's image files as the server holds them (file name ->
    why): missing, unreadable, or refused by the import's checks (ml.data.
    image_stream_problem: cut short, not an image, ...); {} when every one is whole. Reads
    each file once (a few hundred KB a glitch)."""
    problems = {}
    for row in subject.images.all():
        name, storage = row.image.name, row.image.storage
        if not name:
            problems[f"({row.duration:g} s)"] = "no file named"
            continue
        try:
            with storage.open(name, "rb") as handle:
                problem = image_stream_problem(cast(BinaryIO, handle), storage.size(name))
        except FileNotFoundError:
            problem = "missing"
        except OSError as error:
            problem = f"cannot be read ({type(error).__name__})"
        if problem:
            problems[name] = problem
    return problems


def subject_answers_visible(*, subject: Subject, viewer: User | AnonymousUser) -> bool:
    """Whether the viewer may see what would give the answer away (role, gold label, votes,
    posterior, the models' predictions): reviewers always; anyone else once the subject
    has retired or once they have voted on it, and on a gold subject once they have
    answered it as their gold (a scored vote: services._scores_as_gold). Until then a gold
    subject and a pool subject look the same.

    An unscored vote on gold (a lasso's, a sheet's) shows nothing: a scout lassoed 50 ids,
    voted anything, and read the answers of every gold glitch among them, a table valid
    for every account. subject_ids_answers_visible is this rule for many subjects, and
    talk.selectors._readable its SQL twin (Talk's tag counts: on a glitch still collecting
    votes, others' comments wait for this rule): change the three together."""
    if is_reviewer(viewer) or subject.status == Subject.Status.RETIRED:
        return True
    if not viewer.is_authenticated:
        return False
    votes = Classification.objects.filter(volunteer_id=viewer.pk, subject_id=subject.pk)
    return (votes.filter(was_gold=True) if subject.is_gold else votes).exists()


def subject_ids_answers_visible(
    *, subject_ids: Iterable[int], viewer: User | AnonymousUser
) -> set[int]:
    """The ids among subject_ids for which subject_answers_visible holds (the same rule, in
    two queries for any number of subjects): what the map and the similar lists may show of
    the models' guesses. A guess shown before voting is an answer: the model trained on the
    gold subjects with their gold labels."""
    ids = set(subject_ids)
    if is_reviewer(viewer):
        return ids
    retired = Subject.objects.filter(status=Subject.Status.RETIRED)
    visible = set(among(retired, "pk", ids).values_list("pk", flat=True))
    if viewer.is_authenticated:
        # on gold, their scored vote only (was_gold)
        voted = Classification.objects.filter(
            Q(was_gold=True) | ~Q(subject__role=Subject.Role.GOLD), volunteer_id=viewer.pk
        )
        visible.update(among(voted, "subject_id", ids).values_list("subject_id", flat=True))
    return visible & ids


T = TypeVar("T")

# More ids than this are not sent as an IN list: PostgreSQL binds at most 65,535 parameters
# (server-side binding), and the map asks about every glitch at once.
IN_LIST_MAX = 1000


def in_lists(ids: Sequence[T]) -> Iterator[Sequence[T]]:
    """ids IN_LIST_MAX at a time, in order: each slice one IN list a statement can bind."""
    for start in range(0, len(ids), IN_LIST_MAX):
        yield ids[start : start + IN_LIST_MAX]


def among(queryset: QuerySet[Any], field: str, ids: set[int]) -> QuerySet[Any]:
    """queryset narrowed to rows whose `field` is in ids: by an IN list when ids are few,
    else not at all (the whole table is read; the caller keeps the rows it asked for)."""
    return queryset.filter(**{f"{field}__in": ids}) if len(ids) <= IN_LIST_MAX else queryset


def subject_vote_counts(*, subject: Subject) -> dict[str, int]:
    """Votes per class that count: a late vote (cast after the glitch retired) is kept but
    never counted, here as in n_votes, the consensus and the export."""
    counts: dict[str, int] = {}
    counted = subject.classifications.filter(after_retirement=False)
    for name in counted.values_list("glitch_class__name", flat=True):
        counts[name] = counts.get(name, 0) + 1
    return counts


def subject_weighted_votes(*, subject: Subject) -> int:
    """The subject's counted votes that carry weight (a stored W_i): with none, its
    posterior is the model's prediction alone (consensus.combine)."""
    return subject.classifications.filter(after_retirement=False).exclude(weight={}).count()


def subject_label_change(*, subject: Subject) -> LabelHistory | None:
    """How a reviewer or a remap changed the label the glitch page shows (its retired
    label; for gold, its gold label), when it did and that label is still the change's."""
    from webapp.review.selectors import label_change_standing, label_histories

    history = label_histories(subject_ids=[subject.pk]).get(subject.pk)
    return label_change_standing(subject=subject, history=history)


def subject_sample_public() -> Subject | None:
    """A subject an anonymous visitor may look at (never gold: that would give answers away)."""
    return Subject.objects.exclude(role=Subject.Role.GOLD).order_by("-views", "pk").first()


ClassSkill = consensus.ClassSkill  # one volunteer's skill in one class (promotion's numbers)


@dataclass(frozen=True)
class VolunteerProgress:
    level: int
    max_level: int
    n_classified: int
    n_gold: int
    n_gold_correct: int
    # The classes the current level introduced, which decide the next promotion.
    learning: list[ClassSkill]
    min_alpha: float
    min_gold: int


def volunteer_progress(
    *, volunteer: User, profile: VolunteerProfile | None = None
) -> VolunteerProgress:
    """From the profile alone (pass it when in hand): the gold counts are the confusion
    matrix's total and diagonal, the vote count is kept on the profile."""
    if profile is None:
        profile = _profile_of(volunteer)
    level = profile.level
    confusion = profile.gold_confusion
    rules = config.promotion_rules()
    # The same function promotion decides with (consensus.ready_for_promotion): what the
    # page shows is what levels the volunteer up.
    learning = [
        consensus.class_skill(confusion, name, min_alpha=rules.alpha, min_gold=rules.min_gold)
        for name in (config.classes_new_at_level(level) if level < config.max_level() else [])
    ]
    return VolunteerProgress(
        level=level,
        max_level=config.max_level(),
        n_classified=profile.n_classified,
        n_gold=consensus.gold_answers(confusion),
        n_gold_correct=consensus.gold_answers_correct(confusion),
        learning=learning,
        min_alpha=rules.alpha,
        min_gold=rules.min_gold,
    )


@dataclass(frozen=True)
class GuideExample:
    """One example glitch of a class: its primary image and every duration we have."""

    glitch_id: str
    caption: str
    simulated: bool
    primary: GlitchClassExample
    views: list[GlitchClassExample]  # shortest duration first


@dataclass(frozen=True)
class GuideEntry:
    glitch_class: GlitchClass
    level: int | None  # the level that unlocks it; None: every level
    examples: list[GuideExample]


def _guide_examples(images: Iterable[GlitchClassExample]) -> list[GuideExample]:
    """The images of a class grouped by example glitch, in the order they were added (an
    image without glitch_id, from before examples had durations, is its own example)."""
    groups: dict[str, list[GlitchClassExample]] = {}
    for image in images:
        groups.setdefault(image.glitch_id or f"image-{image.pk}", []).append(image)
    examples = []
    for glitch_id, views in groups.items():
        views.sort(key=lambda v: v.duration or 0.0)
        primary = next((v for v in views if v.primary), views[0])
        examples.append(GuideExample(glitch_id, primary.caption, primary.simulated, primary, views))
    return examples


def field_guide() -> list[GuideEntry]:
    """Every class that is not deprecated, with the level that unlocks it and its examples
    (real ones first, then simulated ones)."""
    classes = GlitchClass.objects.exclude(status=GlitchClass.Status.DEPRECATED).prefetch_related(
        Prefetch("examples", queryset=GlitchClassExample.objects.order_by("simulated", "pk"))
    )
    return [
        GuideEntry(c, config.level_of_class(c.name), _guide_examples(c.examples.all()))
        for c in classes
    ]


# --- imports ---------------------------------------------------------------------------


def subjects_imported_elsewhere(
    *, external_ids: Iterable[str], source: str
) -> dict[str, list[Subject]]:
    """external id -> the subjects of other sources that hold it (with their images): a
    folder imported again under another --source name would hold every glitch twice."""
    found: dict[str, list[Subject]] = {}
    for ids in in_lists(list(external_ids)):
        rows = (
            Subject.objects.filter(external_id__in=ids)
            .exclude(source=source)
            .prefetch_related("images")
        )
        for subject in rows:
            found.setdefault(subject.external_id, []).append(subject)
    return found


def external_ids_imported(*, external_ids: Iterable[str], source: str) -> set[str]:
    """The ids among external_ids that this source's subjects already hold (an import run
    again): they are not imported again, so nothing about them is checked again."""
    found: set[str] = set()
    for ids in in_lists(list(external_ids)):
        held = Subject.objects.filter(source=source, external_id__in=ids)
        found.update(held.values_list("external_id", flat=True))
    return found


def subject_shows_glitch(*, subject: Subject, image_paths: dict[float, Path]) -> str | None:
    """How the subject is the glitch of these files (duration -> path), or None: "the same
    images" when one of its images is byte for byte the file given for its duration (an
    import copies files unchanged), "the same glitch in another rendering" when a view's
    noise is the file's (ml.fingerprint: a Kaggle crop beside the Zenodo plot, a JPEG beside
    the PNG). None: a namesake, another glitch under the same id."""
    from ml.encoding import DecodeError
    from ml.fingerprint import same_glitch

    shared = [image for image in subject.images.all() if image.duration in image_paths]
    for image in shared:
        with image.image.open("rb") as stored:
            if stored.read() == Path(image_paths[image.duration]).read_bytes():
                return "the same images"
    # One view tells (~0.07 s): the same glitch's noise matches at every duration, another
    # glitch's at none. A real view first: a stand-in copies another duration's view.
    view = min(shared, key=lambda image: image.substituted, default=None)
    if view is None:
        return None
    try:
        if same_glitch(Path(image_paths[view.duration]), Path(view.image.path)):
            return "the same glitch in another rendering"
    except DecodeError:  # a bad new file is reported by the import itself
        pass
    return None


@dataclass(frozen=True)
class EarlierGlitch:
    """A glitch of this import whose views show a subject imported before (ml.fingerprint)."""

    external_id: str  # the new glitch's id
    subject: Subject  # the subject imported before


@dataclass(frozen=True)
class EarlierCheck:
    found: list[EarlierGlitch]
    not_compared: int = 0  # views of subjects imported before, too many to compare with


def last_subject_pk() -> int:
    """The newest subject's primary key (0 when there is none): what "imported before" means
    to `glitches_imported_before` once this import has created its subjects."""
    return Subject.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def glitches_imported_before(*, samples: list[Any], up_to_pk: int) -> EarlierCheck:
    """The `samples` (ml.data.Samples of one import) whose views show the same glitch as a
    subject imported before (primary key <= `up_to_pk`), where both lack a duration: a
    glitch's durations imported in two runs (e.g. one folder per duration). Fingerprints the
    images of every such subject, unless they are more than ml.fingerprint.AUTO_MAX_VIEWS
    (then `not_compared` says how many); nothing where none of `samples` lacks a duration."""
    from ml.data import DURATIONS, sample_of
    from ml.fingerprint import AUTO_MAX_VIEWS, lacks_a_duration, matches

    new = [s for s in samples if lacks_a_duration(s)]
    if not new:
        return EarlierCheck([])
    partial = Subject.objects.annotate(
        n_views=Count("images", filter=Q(images__substituted=False), distinct=True)
    ).filter(pk__lte=up_to_pk, n_views__lt=len(DURATIONS))
    stored = SubjectImage.objects.filter(subject__in=partial, substituted=False)
    if (n_stored := stored.count()) > AUTO_MAX_VIEWS:
        return EarlierCheck([], not_compared=n_stored)
    paths: dict[int, dict[float, Path]] = {}
    for subject_id, duration, name in stored.values_list("subject_id", "duration", "image"):
        paths.setdefault(subject_id, {})[float(duration)] = Path(settings.MEDIA_ROOT) / name
    # every glitch is keyed anew ("new N" of this import, "old PK" of a subject), so no id
    # of the import can clash with a subject's
    keyed = {f"new {n}": s for n, s in enumerate(new)}
    pk_of = {f"old {pk}": pk for pk in paths}
    earlier = [sample_of(key, None, paths[pk]) for key, pk in pk_of.items()]
    found = []
    for m in matches([replace(s, id=key) for key, s in keyed.items()], against=earlier):
        mine, other = (m.a, m.b) if m.a in keyed else (m.b, m.a)
        found.append((keyed[mine].id, pk_of[other]))
    subjects = Subject.objects.in_bulk([pk for _, pk in found])
    return EarlierCheck([EarlierGlitch(external_id, subjects[pk]) for external_id, pk in found])


@dataclass(frozen=True)
class GuideCheck:
    """The glitches of an import that the field guide shows, with its answer."""

    found: dict[str, str]  # the glitch's id -> why ("is the field guide's Blip example ...")
    not_compared: int = 0  # views too many to compare by image (the ids were still compared)


def glitches_in_field_guide(
    *,
    samples: list[Any],
    other_ids: dict[str, tuple[str, ...]] | None = None,
    by_id_only: bool = False,
) -> GuideCheck:
    """The `samples` (ml.data.Samples) that are a field-guide example's glitch: one of their
    ids (the sample's, or `other_ids`: ids merged into it) is an example's glitch id, or one
    of their views shows the same glitch as an example's view (ml.fingerprint, any
    rendering). One view of each sample is fingerprinted, the one nearest 1 s (one view
    tells: the same glitch's noise matches at every duration, another glitch's at none);
    more than ml.fingerprint.AUTO_MAX_VIEWS samples are compared by id only
    (`not_compared`), and all of them when `by_id_only`."""
    from ml.data import nearest_duration, sample_of, undated_sample
    from ml.fingerprint import AUTO_MAX_VIEWS, matches

    images = list(GlitchClassExample.objects.select_related("glitch_class").order_by("pk"))
    if not samples or not images:
        return GuideCheck({})
    examples: dict[tuple[str, str], dict[float | None, Path]] = {}
    for image in images:
        example = (image.glitch_class.name, image.glitch_id or f"image-{image.pk}")
        examples.setdefault(example, {})[image.duration] = Path(image.image.path)
    found: dict[str, str] = {}
    class_of = {glitch_id: name for name, glitch_id in examples}
    for sample in samples:
        ids = (sample.id, *(other_ids or {}).get(sample.id, ()))
        named = next((i for i in ids if i in class_of), None)
        if named is not None:
            found[sample.id] = f"is the field guide's {class_of[named]} example {named}"
    rest = [s for s in samples if s.id not in found]
    if by_id_only:
        return GuideCheck(found)
    if len(rest) > AUTO_MAX_VIEWS:
        return GuideCheck(found, not_compared=len(rest))
    # Every glitch keyed anew ("new N" of the import, "guide N" of an example), so no id of
    # the import can clash with an example's.
    import_id: dict[str, str] = {}
    pieces = []
    for n, sample in enumerate(rest):
        key = f"new {n}"
        import_id[key] = sample.id
        present = sample.views()
        if present:
            shown = nearest_duration(1.0, present)
            pieces.append(sample_of(key, None, {shown: present[shown]}))
        else:  # one undated file stands for every duration
            pieces.append(undated_sample(key, None, sample.paths[min(sample.paths)]))
    example_of: dict[str, tuple[str, str]] = {}
    against = []
    for n, (example, files) in enumerate(examples.items()):
        key = f"guide {n}"
        example_of[key] = example
        dated = {d: path for d, path in files.items() if d is not None}
        if dated:
            against.append(sample_of(key, None, dated))
        else:
            against.append(undated_sample(key, None, next(iter(files.values()))))
    for m in matches(pieces, against=against):
        mine, theirs = (m.a, m.b) if m.a in import_id else (m.b, m.a)
        name, glitch_id = example_of[theirs]
        found.setdefault(
            import_id[mine],
            f"shows the same glitch as the field guide's {name} example {glitch_id}",
        )
    return GuideCheck(found)


@dataclass(frozen=True)
class GoldShown:
    """A gold subject still serving as gold whose glitch the field guide shows."""

    subject: Subject  # its gold_label selected
    why: str  # "is the field guide's Blip example ...", as glitches_in_field_guide says


@dataclass(frozen=True)
class GoldInGuide:
    found: list[GoldShown]
    not_compared: int = 0  # gold subjects too many to compare by image (ids still compared)


def gold_served_in_field_guide(*, by_image: bool = True) -> GoldInGuide:
    """The gold subjects still serving as gold (active) whose glitch the field guide shows:
    what `glitches_in_field_guide` tells an import (an id, here the external id, that is an
    example's glitch id; or the view nearest 1 s showing an example's glitch, ml.fingerprint),
    asked of the subjects imported before the guide held that example. Beyond
    ml.fingerprint.AUTO_MAX_VIEWS subjects, by id only (`not_compared`). A subject without
    an image is compared by id; every one, when not `by_image` (about 30 ms a subject by
    image on 2 cores: minutes at thousands of gold subjects)."""
    from ml.data import Sample, sample_of, undated_sample

    served = Subject.objects.filter(
        role=Subject.Role.GOLD, status=Subject.Status.ACTIVE, gold_label__isnull=False
    )
    if not GlitchClassExample.objects.exists() or not served.exists():
        return GoldInGuide([])
    files: dict[int, list[tuple[float, Path, bool]]] = {}
    # By id only, no image row is read: every subject then goes to `unseen`.
    read = SubjectImage.objects.filter(subject__in=served)
    stored = (read if by_image else read.none()).order_by("duration")
    for subject_id, duration, name, substituted in stored.values_list(
        "subject_id", "duration", "image", "substituted"
    ):
        path = Path(settings.MEDIA_ROOT) / name
        files.setdefault(subject_id, []).append((float(duration), path, substituted))
    # Each subject keyed by its primary key (two sources may hold one external id; a key
    # with a space is no glitch id), its external id the id compared with the examples'.
    pk_of: dict[str, int] = {}
    other_ids: dict[str, tuple[str, ...]] = {}
    shown, unseen = [], []
    for pk, external_id in served.order_by("pk").values_list("pk", "external_id"):
        key = f"gold subject {pk}"
        pk_of[key], other_ids[key] = pk, (external_id,)
        images = files.get(pk, [])
        views = {duration: path for duration, path, substituted in images if not substituted}
        if views:
            shown.append(sample_of(key, None, views))
        elif images:  # one file of unknown duration, stored in every duration's slot
            shown.append(undated_sample(key, None, images[0][1]))
        else:
            unseen.append(Sample(key, None, {}))  # nothing to fingerprint: its id only
    check = glitches_in_field_guide(samples=shown, other_ids=other_ids)
    by_id = glitches_in_field_guide(samples=unseen, other_ids=other_ids, by_id_only=True)
    why = {**check.found, **by_id.found}
    subjects = Subject.objects.select_related("gold_label").in_bulk([pk_of[k] for k in why])
    found = [
        GoldShown(subjects[pk_of[key]], why[key]) for key in sorted(why, key=lambda key: pk_of[key])
    ]
    return GoldInGuide(found, not_compared=check.not_compared)
