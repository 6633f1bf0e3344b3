from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from webapp.discovery import services
from webapp.discovery.models import (
    Batch,
    ClassProposal,
    ClusterRun,
    EmbeddingSet,
    ProposalEvent,
    ProposalVote,
)
from webapp.read_only_admin import ReadOnlyAdmin


class ProposalEventInline(admin.TabularInline):
    model = ProposalEvent
    extra = 0
    readonly_fields = ("status", "actor", "note", "at")
    can_delete = False


class ClassProposalForm(forms.ModelForm):
    def clean_name(self) -> str:
        """A proposal added or renamed here is held to a volunteer's rules (an unchanged
        name is not asked again)."""
        name: str = self.cleaned_data["name"]
        if "name" in self.changed_data:
            try:
                services.class_name_check(name, other_than=self.instance.name)
            except ValidationError as refused:  # {"name": why}: a field's error is a list
                raise ValidationError(refused.messages) from None
        return name


@admin.register(ClassProposal)
class ClassProposalAdmin(admin.ModelAdmin):
    form = ClassProposalForm
    # Status changes go through the discovery page (services record who and when).
    list_display = ("name", "status", "proposed_by", "created_at")
    list_filter = ("status",)
    readonly_fields = ("status", "glitch_class", "remapped_to", "proposed_by")
    inlines = [ProposalEventInline]


@admin.register(EmbeddingSet)
class EmbeddingSetAdmin(ReadOnlyAdmin):
    list_display = ("model_version", "status", "n_subjects", "dim", "has_map", "finished_at")


@admin.register(ClusterRun)
class ClusterRunAdmin(ReadOnlyAdmin):
    list_display = ("pk", "embedding_set", "n_subjects", "n_clusters", "n_noise", "created_at")


@admin.register(Batch)
class BatchAdmin(ReadOnlyAdmin):
    list_display = ("pk", "volunteer", "source", "class_name", "n_voted", "submitted_at")
    list_filter = ("source",)


admin.site.register(ProposalVote, ReadOnlyAdmin)
