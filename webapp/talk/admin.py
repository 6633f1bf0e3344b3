from django.contrib import admin

from webapp.talk.models import Comment, Tag


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("id", "subject", "author", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("text", "author__username")
    raw_id_fields = ("subject", "author", "moderated_by")
    filter_horizontal = ("tags",)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "proposal", "created_at")
    search_fields = ("name",)
