"""Talk: volunteers' comments on glitches, the #hashtags in them, and reviewers' moderation."""

from __future__ import annotations

import weakref
from typing import Any

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.signals import post_delete, pre_delete
from django.dispatch import receiver
from django.utils import timezone

# A comment is a remark on one glitch, not an essay; the form, the service and the
# database validator read this one number.
COMMENT_MAX_LENGTH = 1000
TAG_MAX_LENGTH = 40


class Tag(models.Model):
    """A #hashtag (lower case), made by the first comment that uses it."""

    name = models.CharField(max_length=TAG_MAX_LENGTH, unique=True)
    # The class proposed from this tag (webapp.talk.services.tag_propose_class), if any.
    proposal = models.ForeignKey(
        "discovery.ClassProposal",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="talk_tags",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"#{self.name}"


class Comment(models.Model):
    """One volunteer's remark on a glitch. Reviewers hide (reversible) or delete it; a
    hidden comment and its tags are seen by reviewers only."""

    class Status(models.TextChoices):
        VISIBLE = "visible"
        HIDDEN = "hidden"

    subject = models.ForeignKey(
        "labeling.Subject", on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="talk_comments"
    )
    text = models.TextField(
        max_length=COMMENT_MAX_LENGTH, validators=[MaxLengthValidator(COMMENT_MAX_LENGTH)]
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="comments")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.VISIBLE)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    moderated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Not a column: True once talk.services.comment_delete has written this comment's
    # DeletedComment, so that the pre_delete receiver below writes no second one.
    recorded = False

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["subject", "created_at"], name="talk_thread_order"),
            # Talk's front page, newest first: read back from the newest, not sorted whole
            models.Index(fields=["created_at", "id"], name="talk_latest_order"),
        ]

    def __str__(self) -> str:
        return f"{self.author} on {self.subject_id}: {self.text[:40]}"

    @property
    def hidden(self) -> bool:
        return self.status == self.Status.HIDDEN


class DeletedComment(models.Model):
    """What a moderator deleted, for the record: the comment itself is gone from every page
    (its tags with it), its words kept here and shown in the admin only, read-only. A row of
    its own rather than a third status on Comment: every read of comments (the thread, the
    front page and its search, tag listings and counts, their SQL twin) stays as it is, none
    able to show deleted words by a filter forgotten. Names are copied too: the record
    outlives the accounts."""

    class How(models.TextChoices):
        MODERATED = "moderated"  # a reviewer's Delete, or an admin's of the comment itself
        ACCOUNT = "account"  # its author's account was deleted (the admin's log says by whom)
        GLITCH = "glitch"  # its glitch was deleted (likewise)
        OTHER = "other"  # deleted by code: a script, the shell

    # The deleted comment's id; unique, so a deletion is recorded once whatever the clicks.
    comment_id = models.BigIntegerField(unique=True)
    how = models.CharField(max_length=16, choices=How.choices, default=How.MODERATED)
    subject = models.ForeignKey(
        "labeling.Subject", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_username = models.CharField(max_length=150)
    text = models.TextField()
    written_at = models.DateTimeField()
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    deleted_by_username = models.CharField(max_length=150, blank=True)  # "": not known
    deleted_at = models.DateTimeField()

    class Meta:
        ordering = ["-deleted_at", "-id"]

    def __str__(self) -> str:
        by = self.deleted_by_username
        return f"comment {self.comment_id} by {self.author_username}, deleted by {by}"


# QuerySet being deleted -> the ids it deletes (for the user model: id -> username), read
# once per deletion, not per comment.
_ids_deleted: weakref.WeakKeyDictionary[models.QuerySet[Any], dict[int, str]] = (
    weakref.WeakKeyDictionary()
)
# A deletion's origin (Django's pre_delete `origin`) -> the records of its comments, written
# together once the comments are gone (the first post_delete of one of them).
_records_pending: weakref.WeakKeyDictionary[object, list[DeletedComment]] = (
    weakref.WeakKeyDictionary()
)


def _deleted_with(origin: object, model: type[models.Model], pk: int) -> bool | None:
    """Whether the row `pk` of `model` (the user model or Subject) goes in the deletion that
    started at `origin` (a model instance or a QuerySet: Django's pre_delete `origin`); None
    where that cannot be told."""
    if isinstance(origin, models.Model):
        if isinstance(origin, model):
            return origin.pk == pk
        started = type(origin)
    elif isinstance(origin, models.QuerySet):
        if issubclass(origin.model, model):
            if origin not in _ids_deleted:
                name = getattr(origin.model, "USERNAME_FIELD", None)
                _ids_deleted[origin] = (
                    {pk: str(named) for pk, named in origin.values_list("pk", name)}
                    if name
                    else dict.fromkeys(origin.values_list("pk", flat=True), "")
                )
            return pk in _ids_deleted[origin]
        started = origin.model
    else:
        return None
    # Deleting a comment deletes no account or glitch; an account no glitch (a glitch's only
    # links are its labels, PROTECT), a glitch no account.
    from django.contrib.auth import get_user_model

    from webapp.labeling.models import Subject

    return False if issubclass(started, (Comment, get_user_model(), Subject)) else None


@receiver(pre_delete, sender=Comment, dispatch_uid="glitchlab-talk-deleted-comment")
def _record_deleted_comment(
    sender: type[Comment], instance: Comment, origin: object = None, **kwargs: Any
) -> None:
    """Every deletion of a comment leaves its record, the ones a deleted account or glitch
    takes with it (CASCADE) too: a record was promised for every deletion, and the admin's
    Delete of a user or a glitch made none. Sent per comment, bulk deletes (QuerySet.delete)
    included: a receiver makes Django's collector fetch the rows rather than delete them in
    one statement. comment_delete writes its own record, with its moderator (`recorded`).
    A link to a row that goes in the same deletion is left empty (the names are copied):
    the collector chose what to empty before this record existed.

    Queried once per deletion, not per comment (an account may have thousands): the names of
    authors who go with it are read here from the deletion's origin (`_deleted_with`), the
    others' once, and the records written in one statement when the comments are gone
    (`_write_deleted_comments`)."""
    if instance.recorded:
        return
    from django.contrib.auth import get_user_model

    from webapp.labeling.models import Subject

    author_gone = _deleted_with(origin, get_user_model(), instance.author_id)
    subject_gone = _deleted_with(origin, Subject, instance.subject_id)
    if author_gone:
        how = DeletedComment.How.ACCOUNT
    elif subject_gone:
        how = DeletedComment.How.GLITCH
    else:
        how = DeletedComment.How.OTHER
    record = DeletedComment(
        comment_id=instance.pk,
        how=how,
        subject_id=None if subject_gone is not False else instance.subject_id,
        author_id=None if author_gone is not False else instance.author_id,
        author_username=_name_if_gone(origin, instance.author_id) if author_gone else "",
        text=instance.text,
        written_at=instance.created_at,
        deleted_at=timezone.now(),
    )
    if author_gone is None or origin is None:  # no deletion to wait for: written now
        record.author_username = instance.author.get_username()
        DeletedComment.objects.bulk_create([record], ignore_conflicts=True)
        return
    _records_pending.setdefault(origin, []).append(record)


def _name_if_gone(origin: object, author_id: int) -> str:
    """The username of an author who goes in this deletion, read before their row goes."""
    if isinstance(origin, models.QuerySet):
        return _ids_deleted[origin][author_id]  # read by _deleted_with
    return str(origin.get_username())  # type: ignore[attr-defined]  # the account deleted


@receiver(post_delete, sender=Comment, dispatch_uid="glitchlab-talk-deleted-comments-written")
def _write_deleted_comments(
    sender: type[Comment], instance: Comment, origin: object = None, **kwargs: Any
) -> None:
    """The records of the deletion's comments, in one statement (the collector deletes every
    row before its first post_delete): the names of authors still here read in one query.
    One record per comment whatever the clicks (comment_id is unique)."""
    if origin is None:
        return
    records = _records_pending.pop(origin, None)
    if not records:
        return
    from django.contrib.auth import get_user_model

    users = get_user_model()
    staying = {r.author_id for r in records if not r.author_username and r.author_id}
    names = dict(
        users._default_manager.filter(pk__in=staying).values_list("pk", users.USERNAME_FIELD)
    )
    for record in records:
        if not record.author_username:
            record.author_username = names.get(record.author_id, "")
    DeletedComment.objects.bulk_create(records, ignore_conflicts=True)
