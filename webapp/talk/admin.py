"""The admin's Talk: comments (an admin's Delete is recorded as a reviewer's is), tags, and
the record of deleted comments, read-only."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from webapp.read_only_admin import ReadOnlyAdmin
from webapp.talk import services
from webapp.talk.models import Comment, DeletedComment, Tag


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("id", "subject", "author", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("text", "author__username")
    raw_id_fields = ("subject", "author", "moderated_by")
    filter_horizontal = ("tags",)

    # Deleted here too, a comment leaves its record (DeletedComment): this was a second
    # Delete, with none.
    def delete_model(self, request: HttpRequest, obj: Comment) -> None:
        assert request.user.is_authenticated  # the admin's views require staff
        services.comment_delete(moderator=request.user, comment_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        assert request.user.is_authenticated
        for comment_id in queryset.values_list("pk", flat=True):
            services.comment_delete(moderator=request.user, comment_id=comment_id)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "proposal", "created_at")
    search_fields = ("name",)


@admin.register(DeletedComment)
class DeletedCommentAdmin(ReadOnlyAdmin):
    """The record of every deleted comment: appended by talk.services.comment_delete (a
    moderator's), or by talk.models' pre_delete receiver (one a deleted account or glitch took
    with it, or code), never edited or removed here."""

    list_display = (
        "deleted_at",
        "comment_id",
        "subject",
        "author_username",
        "how",
        "deleted_by_username",
    )
    list_filter = ("how",)
    search_fields = ("text", "author_username", "deleted_by_username")
    raw_id_fields = ("subject", "author", "deleted_by")
