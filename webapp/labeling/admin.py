from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from webapp.discovery.forms import ClassNamedForm
from webapp.labeling import services
from webapp.labeling.models import (
    Classification,
    GlitchClass,
    GlitchClassExample,
    Subject,
    SubjectImage,
    VolunteerProfile,
)
from webapp.read_only_admin import ReadOnlyAdmin


class GlitchClassExampleInline(admin.TabularInline):
    model = GlitchClassExample
    extra = 0


@admin.register(GlitchClass)
class GlitchClassAdmin(admin.ModelAdmin):
    form = ClassNamedForm
    list_display = ["name", "key", "status", "retire_threshold", "order"]
    list_filter = ["status"]
    list_editable = ["status", "retire_threshold"]
    search_fields = ["name"]
    inlines = [GlitchClassExampleInline]


@admin.register(GlitchClassExample)
class GlitchClassExampleAdmin(admin.ModelAdmin):
    list_display = ["glitch_class", "source_name", "duration"]


class SubjectImageInline(admin.TabularInline):
    model = SubjectImage
    extra = 0


class PicturesFilter(admin.SimpleListFilter):
    title = "pictures"
    parameter_name = "pictures"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [("broken", "broken (out of the queue)"), ("whole", "no problem known")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Subject]) -> QuerySet[Subject]:
        if self.value() == "broken":
            return queryset.exclude(pictures_problem="")
        if self.value() == "whole":
            return queryset.filter(pictures_problem="")
        return queryset


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = [
        "external_id",
        "source",
        "role",
        "status",
        "level",
        "priority",
        "views",
        "n_none_votes",
        "retired_label",
    ]
    list_filter = ["role", "status", PicturesFilter, "level", "source"]
    search_fields = ["external_id"]
    # What the votes, the services and reviewers decide: edited here, a label moved with
    # no change log, no gold rescoring and no consensus behind it (the admin review of
    # 2026-12-07). Reviewers relabel on the review page; roles come with the import.
    readonly_fields = [
        "role",
        "gold_label",
        "status",
        "retired_label",
        "retired_at",
        "posterior",
        "views",
        "n_votes",
        "n_none_votes",
        "consensus_model",
        "pictures_problem",
    ]
    inlines = [SubjectImageInline]
    actions = ["check_pictures"]

    @admin.action(
        description="Check the pictures (whole ones go back to the queue)", permissions=["change"]
    )
    def check_pictures(self, request: HttpRequest, queryset: QuerySet[Subject]) -> None:
        found = services.subjects_check_pictures(subjects=queryset)
        self.message_user(
            request,
            f"{found.checked} glitches checked: {len(found.broken)} broken "
            f"(out of the queue), {len(found.mended)} whole again (back in it).",
            messages.WARNING if found.broken else messages.SUCCESS,
        )


@admin.register(Classification)
class ClassificationAdmin(ReadOnlyAdmin):
    list_display = ["volunteer", "subject", "glitch_class", "was_gold", "was_correct", "created_at"]
    list_filter = ["was_gold", "glitch_class"]
    raw_id_fields = ["subject", "volunteer"]


@admin.register(VolunteerProfile)
class VolunteerProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "level", "promoted_at"]
    list_filter = ["level"]
    search_fields = ["user__username"]
