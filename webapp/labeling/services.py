"""Writes of the labelling app: votes, undo, consensus, promotion, classes and imports."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.models import AnonymousUser, Group, User
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from ml.data import (
    Sample,
    glitch_id_of_file_name,
    image_file_problem,
    load_samples,
    nearest_duration,
)
from webapp.accounts.roles import VOLUNTEER
from webapp.hot_sql import converter, insert, row_locked, save_columns
from webapp.labeling import config, consensus, queue_holds, selectors
from webapp.labeling.models import (
    Classification,
    GlitchClass,
    GlitchClassExample,
    Subject,
    SubjectImage,
    VolunteerProfile,
    field_guide_glitch_id,
)
from webapp.labeling.seeding import sync_glitch_classes
from webapp.modeling.selectors import prediction_for_consensus

logger = logging.getLogger(__name__)


class AlreadyVotedError(Exception):
    """The volunteer already answered this subject (with another idempotency key)."""


class UndoNotAllowedError(Exception):
    """Nothing to undo, the subject of the last vote has retired, or it was a gold answer."""


class NotAssignedError(Exception):
    """The subject was not handed to this volunteer, or its assignment has expired
    (`expired`: it was handed to them, more than ASSIGNMENT_MAX_AGE_S ago)."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


class IdempotencyKeyReusedError(Exception):
    """The idempotency key belongs to the volunteer's vote on another subject."""


# --- classes ---------------------------------------------------------------------------


def glitch_classes_sync() -> int:
    """Create the registry's classes that are missing and give every class a key."""
    return sync_glitch_classes(GlitchClass)


# --- volunteers ------------------------------------------------------------------------


def volunteer_profile_get_or_create(*, user: User) -> VolunteerProfile:
    profile, _ = VolunteerProfile.objects.get_or_create(user=user)
    return profile


def volunteer_register(*, user: User) -> VolunteerProfile:
    """A new account joins the volunteer group at level 1."""
    group, _ = Group.objects.get_or_create(name=VOLUNTEER)
    user.groups.add(group)
    return volunteer_profile_get_or_create(user=user)


def _promote_while_ready(profile: VolunteerProfile) -> bool:
    """Raise the level while the classes of the current level are mastered; never lower it."""
    rules = config.promotion_rules()
    promoted = False
    while profile.level < config.max_level() and consensus.ready_for_promotion(
        profile.gold_confusion,
        config.classes_new_at_level(profile.level),
        min_alpha=rules.alpha,
        min_gold=rules.min_gold,
    ):
        profile.level += 1
        promoted = True
    if promoted:
        profile.promoted_at = timezone.now()
    return promoted


# --- consensus -------------------------------------------------------------------------


def subject_consensus_recompute(*, subject: Subject, reopen: bool = False) -> Subject:
    """Recompute the subject's counts, posterior W and status from its votes and the active
    model's prediction. The caller holds the subject's row lock (select_for_update).

    A subject that has left the queue (retired, closed, discovery) keeps that status unless
    `reopen` is true: late votes are recorded but do not undo a decision. It keeps the model
    vote it was decided with too (consensus_model), so that its posterior and label say
    which model helped reach them; a model activated later does not vote on it.
    """
    rules = config.consensus_rules()
    # (class name, W_i) pairs, not model instances: a busy subject has up to ~50 votes and
    # this runs under its row lock on every vote (names from the cached class table).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT glitch_class_id, weight FROM labeling_classification"
            " WHERE subject_id = %s AND NOT after_retirement",
            [subject.pk],
        )
        rows = cursor.fetchall()
    weight_of = converter(Classification._meta.get_field("weight"))
    votes = [(config.class_name(class_pk), weight_of(weight)) for class_pk, weight in rows]
    deciding = reopen or subject.status == Subject.Status.ACTIVE
    # Decided with no model's vote (""): none now. Not recorded (None, decided before the
    # column was): the active model's, as before.
    kept = None if deciding else subject.consensus_model
    model_vote = None
    if not subject.is_gold and kept != "":
        model_vote = prediction_for_consensus(subject=subject, model_name=kept)
    p_ml = model_vote[1] if model_vote else None
    tally, decision = consensus.judge(
        votes, p_ml, rules=rules, class_thresholds=config.class_retire_thresholds()
    )
    subject.n_votes = tally.n_votes
    subject.n_none_votes = tally.n_none_votes
    subject.views = tally.views
    if subject.is_gold:
        save_columns(subject, ["n_votes", "n_none_votes", "views"])
        return subject  # gold subjects teach and measure; no vote retires them

    subject.posterior = tally.posterior
    if deciding:
        subject.consensus_model = model_vote[0] if model_vote else ""
        subject.status = decision.status
        retired_row = config.class_row(decision.label) if decision.label else None
        subject.retired_label_id = retired_row.pk if retired_row else None
        if decision.status == Subject.Status.RETIRED:
            subject.retired_at = subject.retired_at or timezone.now()
        else:
            subject.retired_at = None
    save_columns(
        subject,
        [
            "n_votes",
            "n_none_votes",
            "views",
            "posterior",
            "status",
            "retired_label",
            "retired_at",
            "consensus_model",
        ],
    )
    return subject


# --- assignments -----------------------------------------------------------------------

# How long a subject handed out by the queue (or the undo) stays votable by its volunteer.
ASSIGNMENT_MAX_AGE_S = 30 * 60
_ASSIGNMENT_SALT = "glitchlab.labeling.assignment"


def assignment_issue(*, volunteer_id: int, subject_id: int) -> str:
    """The token that lets this volunteer vote on this subject for ASSIGNMENT_MAX_AGE_S.

    A signed, timestamped "volunteer:subject" (HMAC with SECRET_KEY), not a table row: the
    queue hands one out with every subject and the vote checks it, and neither costs a
    statement on the vote path. It says nothing the volunteer does not know (their id and
    the subject's), and nothing about the subject's role.
    """
    return signing.TimestampSigner(salt=_ASSIGNMENT_SALT).sign(f"{volunteer_id}:{subject_id}")


def subject_assign(*, volunteer: User, subject: Subject, tab: str | None = None) -> Subject:
    """The subject, with the assignment (subject.assignment) its volunteer votes with; held
    for their tab `tab` when given, taken from any other of theirs (an undo's glitch comes
    back to the tab that undid: queue_holds)."""
    if tab is not None:
        queue_holds.hold_claim(
            volunteer_id=volunteer.pk, tab=tab, subject_id=subject.pk, force=True
        )
    subject.assignment = assignment_issue(volunteer_id=volunteer.pk, subject_id=subject.pk)
    return subject


def subject_next_hand_out(
    *,
    volunteer: User,
    exclude_ids: Iterable[int] = (),
    profile: VolunteerProfile | None = None,
    tab: str = "",
) -> Subject | None:
    """The volunteer's next subject (selectors.subject_next_for_volunteer) with its
    assignment. A gold subject handed out becomes their gold due: it is the only gold the
    queue serves them until they answer it, so passing over gold (`exclude`) cannot pick
    the gold they are sure of. Two requests at once record one gold (compare and set).

    `tab` names the caller's tab (label.js; "" for a client that names none): the subject
    is held for it a while (queue_holds), and the subjects held for the volunteer's other
    tabs are passed over as `exclude` would, unless nothing else is left. Two tabs were
    handed the same glitches, and each vote of the slower one was refused. The gold due held
    by another tab is passed over like an excluded one: pool comes meanwhile, never another
    gold, so holds choose no gold either."""
    elsewhere = queue_holds.held_elsewhere(volunteer_id=volunteer.pk, tab=tab)
    passed = list(exclude_ids)
    taken: list[int] = []  # claimed meanwhile by another tab: asked again without them
    last_resort = False  # nothing left but what other tabs hold: handed out unheld
    for _ in range(2 + CLAIM_TRIES):
        if profile is None or profile.pk is None:
            profile = VolunteerProfile.objects.filter(user=volunteer).first()
            if profile is None:
                profile = volunteer_profile_get_or_create(user=volunteer)
        subject = selectors.subject_next_for_volunteer(
            volunteer=volunteer, exclude_ids=[*passed, *elsewhere, *taken], profile=profile
        )
        if subject is None and (elsewhere or taken):
            # all that is left is on the other tabs' screens: one of them, said if voted twice
            elsewhere, taken, last_resort = [], [], True
            subject = selectors.subject_next_for_volunteer(
                volunteer=volunteer, exclude_ids=passed, profile=profile
            )
        if subject is None:
            return None
        claimed = queue_holds.hold_claim(volunteer_id=volunteer.pk, tab=tab, subject_id=subject.pk)
        refused = claimed is queue_holds.Claim.REFUSED
        if refused and not last_resort and len(taken) < CLAIM_TRIES:
            taken.append(subject.pk)
            continue
        new_gold = subject.role == Subject.Role.GOLD and subject.pk != profile.gold_due_id
        if new_gold and not _gold_due_recorded(profile, subject):
            if claimed is queue_holds.Claim.TAKEN:  # not a hold from an earlier hand-out
                queue_holds.hold_release(volunteer_id=volunteer.pk, tab=tab, subject_id=subject.pk)
            profile = None  # another request recorded a gold meanwhile: ask again with it
            continue
        return subject_assign(volunteer=volunteer, subject=subject)
    return None


# How many times a hand-out asks again for a subject another tab claimed meanwhile (two tabs
# asking at once, their holds not yet in the index): then it is handed out all the same.
CLAIM_TRIES = 3


def _gold_due_recorded(profile: VolunteerProfile, gold: Subject) -> bool:
    """Whether `gold` is now the profile's gold due: set only if the due is still the one
    the profile was read with."""
    # Written out (webapp.hot_sql): one gold is handed out in five subjects.
    seen = "IS NULL" if profile.gold_due_id is None else "= %s"
    sql = (
        "UPDATE labeling_volunteerprofile SET gold_due_id = %s"
        f" WHERE id = %s AND gold_due_id {seen}"
    )
    params = [gold.pk, profile.pk] + ([] if profile.gold_due_id is None else [profile.gold_due_id])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


def _assignment_state(*, volunteer_id: int, subject_id: int, assignment: str) -> str:
    """ "valid"; "expired" (this volunteer's for this subject, signed more than
    ASSIGNMENT_MAX_AGE_S ago); or "not_theirs" (another's, another subject's, not ours)."""
    signer = signing.TimestampSigner(salt=_ASSIGNMENT_SALT)
    expected = f"{volunteer_id}:{subject_id}"
    try:
        return (
            "valid"
            if signer.unsign(assignment, max_age=ASSIGNMENT_MAX_AGE_S) == expected
            else "not_theirs"
        )
    except signing.SignatureExpired:
        return "expired" if signer.unsign(assignment) == expected else "not_theirs"
    except signing.BadSignature:
        return "not_theirs"


def subject_pictures_unseen(*, volunteer: User, subject_id: int, assignment: str) -> dict[str, str]:
    """The volunteer's page could not load the pictures of a subject handed to them (its
    `assignment`) and gave up (POST /api/subjects/<id>/unseen/): logged for the admins with
    what the server finds wrong with the files (selectors.subject_image_problems), which
    are returned. The page passes over the glitch itself (GET subjects/next/'s `exclude`).

    Found broken on the server too, the subject leaves the queue for everyone (its
    pictures_problem says why; subjects_check_pictures puts it back once mended) and stops
    being the volunteer's gold due: otherwise no other gold would come to them until they
    answered a glitch nobody can see (subject_next_hand_out), and every volunteer after
    them would wait for the same broken pictures. Whole on the server, nothing changes: the
    page's word alone (a picture it says it could not load) would let a volunteer pass over
    gold at will, or take a glitch out of everyone's queue.
    Once per volunteer and glitch in ASSIGNMENT_MAX_AGE_S (the cache): a page says it once,
    and a script repeating it with one assignment read four files and wrote a warning on
    each call (300 in 17 s, the attacker review), burying the lines admins look for. A
    repeat is answered alike, without reading or logging.
    Raises NotAssignedError as classification_create_assigned does, Subject.DoesNotExist.
    """
    state = _assignment_state(
        volunteer_id=volunteer.pk, subject_id=subject_id, assignment=assignment
    )
    if state != "valid":
        raise NotAssignedError(
            f"glitch {subject_id} is not on your screen: it was not handed to you "
            f"in the last {ASSIGNMENT_MAX_AGE_S // 60} minutes",
            expired=state == "expired",
        )
    subject = Subject.objects.get(pk=subject_id)
    first_word = cache.add(
        f"glitchlab:unseen:{volunteer.pk}:{subject.pk}", True, timeout=ASSIGNMENT_MAX_AGE_S
    )
    if not first_word:
        return {}
    problems = selectors.subject_image_problems(subject=subject)
    if not problems:
        logger.warning(
            "glitch %d: volunteer %d's page could not load its pictures, which the server "
            "holds whole (the network, a proxy, or how MEDIA_URL is served?)",
            subject.pk,
            volunteer.pk,
        )
        return problems
    released = VolunteerProfile.objects.filter(user=volunteer, gold_due_id=subject.pk).update(
        gold_due=None
    )
    found = _pictures_problem_text(problems)
    Subject.objects.filter(pk=subject.pk).update(pictures_problem=found)
    logger.warning(
        "glitch %d: volunteer %d's page could not load its pictures; on the server: %s"
        " (out of the queue until `manage.py check_pictures` finds them whole)%s",
        subject.pk,
        volunteer.pk,
        found,
        " (their gold due: released)" if released else "",
    )
    return problems


def _pictures_problem_text(problems: dict[str, str]) -> str:
    return "; ".join(f"{name}: {why}" for name, why in problems.items())


@dataclass
class PicturesChecked:
    checked: int = 0
    broken: dict[int, str] = field(default_factory=dict)  # subject id -> what is wrong
    mended: list[int] = field(default_factory=list)  # ids back in the queue


def subjects_check_pictures(*, subjects: QuerySet[Subject]) -> PicturesChecked:
    """Read every image file of `subjects` (selectors.subject_image_problems) and record
    what is wrong in each one's pictures_problem: a broken glitch leaves the queue, one
    whose files are whole again (restored from a backup, re-imported) comes back to it.
    For the admin's action and `manage.py check_pictures`; votes and states are untouched."""
    result = PicturesChecked()
    for subject in subjects.prefetch_related("images").iterator(chunk_size=500):
        result.checked += 1
        found = _pictures_problem_text(selectors.subject_image_problems(subject=subject))
        if found:
            result.broken[subject.pk] = found
        elif subject.pictures_problem:
            result.mended.append(subject.pk)
        if found != subject.pictures_problem:
            Subject.objects.filter(pk=subject.pk).update(pictures_problem=found)
    return result


# --- votes -----------------------------------------------------------------------------


@dataclass
class VoteResult:
    classification: Classification
    class_name: str  # the answer's class
    created: bool  # False when the same idempotency key was seen before (a replay)
    profile: VolunteerProfile  # the volunteer's, as this vote left it
    promoted: bool = False
    gold_label: str | None = None  # the right answer, for gold subjects only
    correct: bool | None = None  # gold subjects only
    # The subject had retired before this vote: kept, but its label and consensus unchanged.
    late: bool = False
    extra: dict[str, object] = field(default_factory=dict)


def _vote_result(
    classification: Classification,
    *,
    created: bool,
    promoted: bool,
    profile: VolunteerProfile | None = None,
) -> VoteResult:
    subject = classification.subject
    if profile is None:
        profile = VolunteerProfile.objects.get(user_id=classification.volunteer_id)
    # The right answer only for a gold answer (and a gold glitch whose answer is public):
    # an unscored vote on a gold glitch is answered as one on a pool glitch.
    shown = classification.was_gold or (subject.is_gold and classification.after_retirement)
    gold_id = subject.gold_label_id if shown else None
    return VoteResult(
        classification=classification,
        class_name=config.class_name(classification.glitch_class_id),
        created=created,
        profile=profile,
        promoted=promoted,
        gold_label=config.class_name(gold_id) if gold_id is not None else None,
        correct=classification.was_correct,
        late=classification.after_retirement,
    )


def classification_create_assigned(
    *,
    volunteer: User,
    subject_id: int,
    assignment: str,
    class_name: str,
    idempotency_key: uuid.UUID | None = None,
    seconds_taken: float | None = None,
) -> VoteResult:
    """A vote sent by a client: only on a subject the queue handed to this volunteer, within
    ASSIGNMENT_MAX_AGE_S (the assignment token that came with it). A retry of a stored vote
    (same key, same subject) is answered as the first time even once the assignment has
    expired. Raises NotAssignedError otherwise; the rest is classification_create's."""
    state = _assignment_state(
        volunteer_id=volunteer.pk, subject_id=subject_id, assignment=assignment
    )
    if state != "valid":
        replay = _vote_with_key(volunteer, idempotency_key, subject_id) if idempotency_key else None
        if replay is not None:
            return _vote_result(replay, created=False, promoted=False)
        minutes = ASSIGNMENT_MAX_AGE_S // 60
        why = (
            f"was handed to you more than {minutes} minutes ago"
            if state == "expired"
            else "was not handed to you"
        )
        raise NotAssignedError(
            f"glitch {subject_id} {why}: ask for your next glitch (GET /api/subjects/next/) "
            "and vote with the assignment that comes with it",
            expired=state == "expired",
        )
    return classification_create(
        volunteer=volunteer,
        subject_id=subject_id,
        class_name=class_name,
        idempotency_key=idempotency_key,
        seconds_taken=seconds_taken,
    )


def _vote_with_key(volunteer: User, key: uuid.UUID, subject_id: int) -> Classification | None:
    """The volunteer's vote sent with this key; IdempotencyKeyReusedError when that vote
    was on another subject (a key names one vote, never the next one)."""
    existing = (
        Classification.objects.select_related("subject")
        .filter(volunteer=volunteer, idempotency_key=key)
        .first()
    )
    if existing is not None and existing.subject_id != subject_id:
        raise IdempotencyKeyReusedError(
            f"this idempotency key was already used for your vote on glitch "
            f"{existing.subject_id}; send a fresh key with every vote"
        )
    return existing


def classification_create(
    *,
    volunteer: User,
    subject_id: int,
    class_name: str,
    idempotency_key: uuid.UUID | None = None,
    seconds_taken: float | None = None,
) -> VoteResult:
    """Record a vote and update the subject's consensus in one transaction.

    The caller has served the subject to the volunteer: a client's vote comes through
    classification_create_assigned (the queue's assignment); a cluster sheet's votes are
    on the subjects its Batch row lists (webapp.discovery.services.batch_submit).
    A vote on a gold subject is a gold answer (scored, with its feedback) only on the
    volunteer's gold due (_scores_as_gold); any other is an unscored vote.
    Idempotent on (volunteer, idempotency_key): a retried request returns the first result;
    the key of a vote on another subject is refused (IdempotencyKeyReusedError).
    A late vote (the subject has retired) is stored with after_retirement and changes
    nothing on the subject.
    The subject row is locked first, so concurrent votes on one subject queue up and none
    of their updates is lost. Replays and second votes are told apart after the unique
    constraints refuse them, so a first vote (nearly every request) pays no query for them.
    Classes come from the cached class table (config.class_table), not from a query.
    """
    key = uuid.UUID(str(idempotency_key)) if idempotency_key else uuid.uuid4()
    try:
        with transaction.atomic():
            subject = row_locked(Subject, "id = %s", [subject_id])
            if subject is None:
                raise Subject.DoesNotExist(f"no subject {subject_id}")
            # A replay of this key or a second vote on this subject is not looked for here:
            # the unique constraints refuse the insert below, and the handler tells which.
            profile = row_locked(VolunteerProfile, "user_id = %s", [volunteer.pk])
            if profile is None:  # an account made outside volunteer_register
                profile = VolunteerProfile.objects.select_for_update().get(
                    pk=volunteer_profile_get_or_create(user=volunteer).pk
                )
            glitch_class = _class_for_vote(class_name, level=profile.level)

            classification = Classification(
                volunteer=volunteer,
                subject=subject,
                glitch_class_id=glitch_class.pk,
                seconds_taken=seconds_taken,
                idempotency_key=key,
            )
            promoted = False
            retired = subject.status == Subject.Status.RETIRED
            if _scores_as_gold(subject, profile):
                assert subject.gold_label_id is not None  # a gold subject has its label (db)
                classification.was_gold = True
                classification.was_correct = glitch_class.pk == subject.gold_label_id
                profile.gold_confusion = consensus.confusion_add(
                    profile.gold_confusion,
                    config.class_name(subject.gold_label_id),
                    glitch_class.name,
                )
                promoted = _promote_while_ready(profile)
            elif not subject.is_gold:  # W_i, None_of_the_Above's too; {} without gold history
                # (a gold glitch's other votes carry none: _scores_as_gold)
                classification.weight = consensus.vote_weight(
                    profile.gold_confusion,
                    glitch_class.name,
                    config.active_class_names(),
                    rules=config.consensus_rules(),
                    level=profile.level,
                )
            # A retired subject's label stands: the vote is the volunteer's and is kept,
            # but neither its counts nor its posterior take it.
            classification.after_retirement = retired
            insert(classification)
            profile.n_classified += 1
            if profile.gold_due_id == subject.pk:  # answered: the queue may serve other gold
                profile.gold_due_id = None
            save_columns(
                profile, ["n_classified", "gold_confusion", "level", "promoted_at", "gold_due"]
            )
            if not classification.after_retirement:
                subject_consensus_recompute(subject=subject)
            return _vote_result(classification, created=True, promoted=promoted, profile=profile)
    except IntegrityError:
        # The key was used before (a retry: answer as the first time; the key of a vote on
        # another subject: refused) or the volunteer has voted on this subject already.
        # Everything this attempt wrote was rolled back. Any other refusal (a NOT NULL
        # column this code does not fill, a foreign key) is raised as it is: reported as
        # "you already classified", it hid a schema that did not match the code.
        existing = _vote_with_key(volunteer, key, subject_id)
        if existing is not None:
            return _vote_result(existing, created=False, promoted=False)
        if not Classification.objects.filter(volunteer=volunteer, subject_id=subject_id).exists():
            raise
        raise AlreadyVotedError(f"you already classified subject {subject_id}") from None


def _scores_as_gold(subject: Subject, profile: VolunteerProfile) -> bool:
    """Whether a vote on `subject` is a gold answer: only on the gold the queue handed this
    volunteer (their gold_due, services.subject_next_hand_out), while it is still served.

    The gold due is what holds the gold rate, the class levels and "no choosing which gold
    to answer" (exclude): a vote on any other gold glitch (one picked with a lasso, on a
    cluster or tag sheet, or any later path) would bypass them all: a level-2 account
    lassoed three gold glitches of a class whose answers another account had told it, and
    was promoted for it, up to the top level in 34 requests. Such a vote is kept as an
    ordinary vote that scores no one: no was_gold, no gold_confusion, no promotion, no
    feedback (VoteResult.gold_label), and no weight either (classification_create), so it
    counts in the glitch's n_votes and nowhere else; gold never retires by votes anyway.
    A gold glitch that has retired (its answer went public: the field guide, an accepted
    class's gold) scores no one, its gold due included: one still holding its assignment,
    or a sheet with it, could read the answer first.
    """
    return (
        subject.is_gold
        and subject.status != Subject.Status.RETIRED
        and profile.gold_due_id == subject.pk
    )


def _class_for_vote(class_name: str, *, level: int) -> config.ClassRow:
    row = config.class_row(class_name)
    if row is None or row.status != GlitchClass.Status.ACTIVE:
        raise ValidationError({"glitch_class": f"unknown class {class_name!r}"})
    if class_name not in config.classes_unlocked_at_level(level):
        raise ValidationError({"glitch_class": f"{class_name} is not unlocked at level {level}"})
    return row


def classification_undo_last(*, volunteer: User, classification_id: int) -> Subject:
    """Take back the volunteer's vote `classification_id` (the id its vote's answer gave),
    which must be their last vote, unless its subject has retired meanwhile or it was a
    gold answer: the first answer to a gold subject is the one that counts (undo and answer
    again, now knowing the right answer, farmed gold credit). Returns the subject, to be
    shown again (with a new assignment: subject_assign).

    Naming the vote makes an undo safe to send twice: a replayed or retried undo finds its
    vote gone and is refused, where "undo my last vote" would take back the one before.
    """
    with transaction.atomic():
        last = Classification.objects.filter(volunteer=volunteer).order_by("-created_at", "-id")
        candidate = last.first()
        if candidate is None or candidate.pk != classification_id:
            mine = Classification.objects.filter(volunteer=volunteer, pk=classification_id)
            if candidate is not None and mine.exists():
                raise UndoNotAllowedError("only your last vote can be undone")
            raise UndoNotAllowedError("that vote is not yours to undo, or was undone already")
        subject = (
            Subject.objects.select_for_update(of=("self",))
            .select_related("gold_label")
            .get(pk=candidate.subject_id)
        )
        # "Your last vote" again, now that no vote of theirs is under way: each holds the
        # profile until it commits. An undo that waited here for a sheet from the other tab
        # took back a vote the sheet's votes had followed.
        profile = VolunteerProfile.objects.select_for_update().get(user=volunteer)
        vote = last.select_related("glitch_class").first()
        if vote is None or vote.pk != candidate.pk:
            if vote is None or not last.filter(pk=candidate.pk).exists():  # undone meanwhile
                raise UndoNotAllowedError("there is no vote to undo")
            raise UndoNotAllowedError("only your last vote can be undone")
        if subject.status == Subject.Status.RETIRED:
            raise UndoNotAllowedError("this glitch has already retired")
        if vote.was_gold:
            raise UndoNotAllowedError(
                "that was a training glitch: its first answer counts and cannot be undone"
            )
        if vote.answers_seen:
            raise UndoNotAllowedError(
                "you have seen this glitch's votes since: your answer stays as it was given"
            )
        profile.n_classified = max(profile.n_classified - 1, 0)
        profile.save(update_fields=["n_classified"])
        vote.delete()
        return subject_consensus_recompute(subject=subject, reopen=True)


def classifications_answers_seen(
    *, volunteer: User | AnonymousUser, subject_ids: Iterable[int]
) -> None:
    """The volunteer is being shown these glitches' answers (votes, consensus, the models'
    guesses, or a glitch id, time or measurement that keys a public table of labels): their
    votes on them can no longer be undone (classification_undo_last), or vote, look, undo
    and vote the answer seen would count a copy as an independent vote. Every page that
    shows a voted glitch's answers calls this once for all it shows.

    Up to IN_LIST_MAX ids: one UPDATE. More (the map): the volunteer's votes not yet seen
    are read first and only those among the ids updated, IN_LIST_MAX at a time, so a reload
    of the map costs one SELECT and, when nothing new was voted on, no UPDATE."""
    ids = set(subject_ids)
    if not volunteer.is_authenticated or not ids:
        return
    unseen = Classification.objects.filter(volunteer_id=volunteer.pk, answers_seen=False)
    if len(ids) <= selectors.IN_LIST_MAX:
        unseen.filter(subject_id__in=ids).update(answers_seen=True)
        return
    votes = [pk for pk, sid in unseen.values_list("pk", "subject_id") if sid in ids]
    for chunk in selectors.in_lists(votes):
        Classification.objects.filter(pk__in=chunk).update(answers_seen=True)


# --- subjects --------------------------------------------------------------------------


@dataclass
class ImportReport:
    created: int = 0
    skipped: int = 0  # already imported
    problems: list[str] = field(default_factory=list)  # "file: reason"


def subject_import(
    *,
    external_id: str,
    source: str,
    role: str,
    label: str | None,
    image_paths: dict[float, Path],
    substituted: tuple[float, ...] = (),
    ifo: str = "",
    gps_time: float | None = None,
) -> tuple[Subject, bool]:
    """Create a subject and copy its images into MEDIA_ROOT; an existing one is left alone."""
    texts = {"external_id": external_id, "source": source, "source_label": label or "", "ifo": ifo}
    for name, text in texts.items():
        longest = getattr(Subject._meta.get_field(name), "max_length", None)
        if longest is not None and len(text) > longest:
            # PostgreSQL refuses the insert (DataError) mid-import; SQLite would store it
            raise ValidationError(
                f"{external_id[:40]}...: its {name} has {len(text)} characters, at most "
                f"{longest} fit; not imported"
            )
    existing = Subject.objects.filter(source=source, external_id=external_id).first()
    if existing is not None:
        return existing, False
    for path in image_paths.values():
        _check_image_file(Path(path))
    gold_label = None
    if role == Subject.Role.GOLD:
        if not label:
            raise ValidationError(f"{external_id}: a gold subject needs a label")
        gold_label = GlitchClass.objects.filter(name=label).first()
        if gold_label is None:
            raise ValidationError(f"{external_id}: unknown class {label!r}")
    with subject_images_kept_if_committed() as saved:
        subject = Subject.objects.create(
            external_id=external_id,
            source=source,
            role=role,
            source_label=label or "",
            gold_label=gold_label,
            ifo=ifo or "",
            gps_time=gps_time,
        )
        for duration, path in sorted(image_paths.items()):
            image = SubjectImage(
                subject=subject, duration=duration, substituted=duration in substituted
            )
            file = image.image
            name = file.field.generate_filename(image, Path(path).name)
            saved.append(name)  # before the write: one that fails part-way leaves it half
            with open(path, "rb") as handle:
                stored = file.storage.save(name, File(handle), max_length=file.field.max_length)
            if stored != name:  # (a random name: never one taken, in practice)
                saved.append(stored)
            image.image = stored
            image.save()
    return subject, True


# the names a subject_images_kept_if_committed block saved, for the block around it
_images_saved: ContextVar[list[str] | None] = ContextVar("_images_saved", default=None)


@contextmanager
def subject_images_kept_if_committed() -> Iterator[list[str]]:
    """A transaction that writes subject images with their rows: the block lists in the
    list it is given each name it saves (before the write). If the block fails, its files
    go too, a half-written one included, so a failed import leaves nothing in MEDIA_ROOT
    and its rerun no second copy. A file is never removed while a committed row may name
    it: when the commit itself failed, only the files no row names are removed. A block
    inside another hands its names to the outer one once it succeeds, since the outer's
    failure rolls its rows back too (a plain transaction.atomic around it does not: a
    failure there leaves the files)."""
    saved: list[str] = []
    outer = _images_saved.get()
    token = _images_saved.set(saved)
    body_done = False
    try:
        with transaction.atomic():
            yield saved
            body_done = True
    except BaseException:
        _subject_images_remove(saved, commit_failed=body_done)
        raise
    finally:
        _images_saved.reset(token)
    if outer is not None:
        outer.extend(saved)


def _subject_images_remove(names: list[str], *, commit_failed: bool) -> None:
    """Delete the images a failed block saved. The block's own failure rolled its rows back;
    a failed commit (or savepoint release) may have committed them or not: the database is
    asked which files a row names, and every file is kept when it cannot say."""
    storage = SubjectImage._meta.get_field("image").storage
    if commit_failed and names:
        try:
            if not connection.in_atomic_block:
                connection.close_if_unusable_or_obsolete()  # a dropped one: ask a new one
            named = set(
                SubjectImage.objects.filter(image__in=names).values_list("image", flat=True)
            )
        except DatabaseError as error:
            logger.warning("kept %d images of a failed import (%s): %s", len(names), error, names)
            return
        names = [name for name in names if name not in named]
    for name in names:
        try:
            storage.delete(name)
        except OSError as error:
            logger.warning("could not remove %s of a failed import: %s", name, error)


def _check_image_file(path: Path) -> None:
    """Refuse a file before copying it into MEDIA_ROOT: not a regular file, too large, a
    decompression bomb or not an image (ml.data's checks, again, for callers that did not
    go through load_samples; load_samples also keeps paths inside their data set)."""
    if not path.is_file():
        raise ValidationError(f"{path}: not a regular file; refused")
    problem = image_file_problem(path)
    if problem is not None:
        raise ValidationError(f"{path}: {problem}")


def glitch_class_example_add(
    *,
    glitch_class: GlitchClass,
    path: Path,
    duration: float | None,
    glitch_id: str = "",
    primary: bool = True,
    simulated: bool = False,
    caption: str = "",
    source_name: str = "",
) -> tuple[GlitchClassExample, bool]:
    """Add a field-guide image to a class (idempotent per source name: the file's name
    unless given). The same view of the same glitch added before examples had a glitch id
    (seed_demo until 2026-12: glitch_id empty, another file type) is updated to this one,
    not shown twice."""
    source_name = source_name or path.name
    example = GlitchClassExample.objects.filter(
        glitch_class=glitch_class, source_name=source_name
    ).first()
    if example is not None:
        return example, False
    _check_image_file(path)
    before = _example_without_glitch_id(glitch_class, glitch_id, duration)
    example = before or GlitchClassExample(glitch_class=glitch_class)
    old_image = example.image.name if before else ""
    if before is None or before.caption == Path(before.source_name).stem:  # (not an admin's)
        example.caption = caption or path.stem
    example.source_name = source_name
    example.duration = duration
    example.glitch_id = glitch_id
    example.primary = primary
    example.simulated = simulated
    # A random file name: one taken from a gold subject must not name the subject (its URL
    # would tell volunteers which glitch in their queue is gold, and its answer).
    with open(path, "rb") as handle:
        name = f"{glitch_class.name}_{uuid.uuid4().hex[:16]}{path.suffix.lower()}"
        example.image.save(name, File(handle), save=False)
    example.save()
    if old_image:
        storage = example.image.storage
        transaction.on_commit(lambda: storage.delete(old_image))
    return example, True


def _example_without_glitch_id(
    glitch_class: GlitchClass, glitch_id: str, duration: float | None
) -> GlitchClassExample | None:
    """The class's example of this glitch and duration stored before examples carried
    their glitch id (migration labeling 0007): known by the id its file name carries."""
    if not glitch_id:
        return None
    for example in GlitchClassExample.objects.filter(glitch_class=glitch_class, glitch_id=""):
        if example.duration == duration and glitch_id_of_file_name(example.source_name) == (
            glitch_id
        ):
            return example
    return None


def glitch_class_example_add_glitch(
    *,
    glitch_class: GlitchClass,
    glitch_id: str,
    views: dict[float | None, Path],
    caption: str,
    simulated: bool = False,
    name_prefix: str = "",
) -> int:
    """Add every view of one example glitch (duration -> file) to the field guide; the 1 s
    view, or the nearest one, is its primary image. Returns the images added (0: all there)."""
    dated = [d for d in views if d is not None]
    shown = nearest_duration(1.0, dated) if dated else None
    added = 0
    with transaction.atomic():
        # One add per class at a time: a second click checked "already there" before the
        # first had committed, copied the images again and failed on the unique constraint
        # (a 500 on PostgreSQL, and orphan files).
        GlitchClass.objects.select_for_update().filter(pk=glitch_class.pk).first()
        for duration, path in sorted(views.items(), key=lambda kv: kv[0] or 0.0):
            _, was_added = glitch_class_example_add(
                glitch_class=glitch_class,
                path=path,
                duration=duration,
                glitch_id=glitch_id,
                primary=duration == shown,
                simulated=simulated,
                caption=caption,
                source_name=f"{name_prefix}{path.name}",
            )
            added += was_added
    return added


def glitch_class_example_from_subject(*, subject: Subject) -> int:
    """An admin's one click on a gold subject: its real views join its class's field guide,
    marked simulated when the subject came from the simulator, and it stops serving as gold.
    Returns the images added."""
    if not subject.is_gold or subject.gold_label is None:
        raise ValidationError("only a gold subject (its label is known) can be an example")
    images = list(subject.images.all())
    views: dict[float | None, Path] = {
        image.duration: Path(image.image.path) for image in images if not image.substituted
    }
    if not views and images:  # one file of unknown duration, stored in every duration's slot
        views = {None: Path(images[0].image.path)}
    if not views:
        raise ValidationError("this subject has no image to show")
    simulated = subject.simulated
    with transaction.atomic():
        added = glitch_class_example_add_glitch(
            glitch_class=subject.gold_label,
            glitch_id=field_guide_glitch_id(subject.pk),
            views=views,
            caption="simulated glitch" if simulated else "a gold glitch",  # no id: it is gold
            simulated=simulated,
            name_prefix=f"subject-{subject.pk}-",
        )
        # The guide shows its images, byte for byte, under its class: its answer is public.
        gold_answer_public_retire(subject_id=subject.pk)
    return added


def gold_answer_public_retire(*, subject_id: int) -> bool:
    """A gold subject whose answer went public (the field guide shows its glitch) can test no
    one: it leaves the gold queue, retired with its gold label (as an accepted class's gold
    is); it still trains the model, and the answers it scored stay scored. False when it
    was not serving as gold (already retired, or not gold)."""
    retired = Subject.objects.filter(
        pk=subject_id, role=Subject.Role.GOLD, status=Subject.Status.ACTIVE
    ).update(
        status=Subject.Status.RETIRED,
        retired_label=F("gold_label"),
        retired_at=timezone.now(),
    )
    return retired == 1


def gold_in_field_guide_retire(*, by_image: bool = True) -> selectors.GoldInGuide:
    """Every gold subject still serving as gold whose glitch the field guide shows (by id or
    by image: selectors.gold_served_in_field_guide) retires as one added to the guide from
    its subject does: gold imported before the guide held its example (load_field_guide
    runs this at each start, after filling the guide). Returns those it retired, and how
    many gold subjects were too many to compare by image."""
    check = selectors.gold_served_in_field_guide(by_image=by_image)
    retired = [
        shown for shown in check.found if gold_answer_public_retire(subject_id=shown.subject.pk)
    ]
    return selectors.GoldInGuide(retired, not_compared=check.not_compared)


# The golden field-guide example first, then real glitches of the class (every duration).
FIELD_GUIDE_EXAMPLES_PER_CLASS = 3


def _shipped_example_caption(glitch_id: str) -> str:
    """Where a shipped example comes from, as the guide shows it (docs/data_notice.md)."""
    if glitch_id.startswith("golden-"):
        return "Gravity Spy's field-guide example"
    if glitch_id.startswith("zoosubject-"):
        return f"Zooniverse subject {glitch_id.removeprefix('zoosubject-')} (Gravity Spy gold)"
    if glitch_id.startswith("zoo-"):
        return "a Zooniverse subject, labelled by a volunteer"
    return f"Gravity Spy training set, {glitch_id}"


def field_guide_load(*, folder: Path) -> int:
    """Add the example images of `folder` (<class>/<id>_<duration>.<ext>: the ones shipped in
    webapp/labeling/field_guide_examples, docs/data_notice.md) to their classes' field guide,
    the golden example first, at most FIELD_GUIDE_EXAMPLES_PER_CLASS glitches a class, every
    duration of each. Idempotent: an image already in the guide is not added again. Creates
    no account; classes that do not exist are skipped. Returns the images added."""
    result = load_samples(folder)
    by_label: dict[str, list[Sample]] = {}
    # Golden (Gravity Spy field guide) images first, then real glitches of the class.
    for sample in sorted(result.samples, key=lambda s: (not s.id.startswith("golden"), s.id)):
        if sample.label:
            by_label.setdefault(sample.label, []).append(sample)
    added = 0
    for glitch_class in GlitchClass.objects.filter(name__in=by_label):
        for sample in by_label[glitch_class.name][:FIELD_GUIDE_EXAMPLES_PER_CLASS]:
            # Undated files stand for every duration: one of them is enough.
            views: dict[float | None, Path] = dict(sample.views().items()) or {
                None: sample.paths[min(sample.paths)]
            }
            added += glitch_class_example_add_glitch(
                glitch_class=glitch_class,
                glitch_id=sample.id,
                views=views,
                caption=_shipped_example_caption(sample.id),
            )
    return added
