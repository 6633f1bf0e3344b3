"""Talk: volunteers' comments on glitches, the #hashtags in them, and reviewers' moderation."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models

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

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["subject", "created_at"], name="talk_thread_order")]

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

    # The deleted comment's id; unique, so a deletion is recorded once whatever the clicks.
    comment_id = models.BigIntegerField(unique=True)
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
    deleted_by_username = models.CharField(max_length=150)
    deleted_at = models.DateTimeField()

    class Meta:
        ordering = ["-deleted_at", "-id"]

    def __str__(self) -> str:
        by = self.deleted_by_username
        return f"comment {self.comment_id} by {self.author_username}, deleted by {by}"
