from django.contrib import admin

from webapp.labeling.models import (
    Classification,
    GlitchClass,
    GlitchClassExample,
    Subject,
    SubjectImage,
    VolunteerProfile,
)


class GlitchClassExampleInline(admin.TabularInline):
    model = GlitchClassExample
    extra = 0


@admin.register(GlitchClass)
class GlitchClassAdmin(admin.ModelAdmin):
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
    list_filter = ["role", "status", "level", "source"]
    search_fields = ["external_id"]
    inlines = [SubjectImageInline]


@admin.register(Classification)
class ClassificationAdmin(admin.ModelAdmin):
    list_display = ["volunteer", "subject", "glitch_class", "was_gold", "was_correct", "created_at"]
    list_filter = ["was_gold", "glitch_class"]
    raw_id_fields = ["subject", "volunteer"]


@admin.register(VolunteerProfile)
class VolunteerProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "level", "promoted_at"]
    list_filter = ["level"]
    search_fields = ["user__username"]
