from django.contrib import admin

from webapp.discovery.forms import ClassNamedForm
from webapp.discovery.models import (
    Batch,
    ClassProposal,
    ClusterRun,
    EmbeddingSet,
    ProposalEvent,
    ProposalVote,
)
from webapp.modeling.admin import MadeByAModelAdmin
from webapp.modeling.models import ModelVersion
from webapp.read_only_admin import ReadOnlyAdmin


class ProposalEventInline(admin.TabularInline):
    model = ProposalEvent
    extra = 0
    readonly_fields = ("status", "actor", "note", "at")
    can_delete = False


@admin.register(ClassProposal)
class ClassProposalAdmin(admin.ModelAdmin):
    form = ClassNamedForm
    # Status changes go through the discovery page (services record who and when).
    list_display = ("name", "status", "proposed_by", "created_at")
    list_filter = ("status",)
    readonly_fields = ("status", "glitch_class", "remapped_to", "proposed_by")
    inlines = [ProposalEventInline]


@admin.register(EmbeddingSet)
class EmbeddingSetAdmin(MadeByAModelAdmin):
    list_display = ("model_version", "status", "n_subjects", "dim", "has_map", "finished_at")

    def version(self, obj: EmbeddingSet) -> ModelVersion:
        return obj.model_version


@admin.register(ClusterRun)
class ClusterRunAdmin(MadeByAModelAdmin):
    list_display = ("pk", "embedding_set", "n_subjects", "n_clusters", "n_noise", "created_at")

    def version(self, obj: ClusterRun) -> ModelVersion:
        return obj.embedding_set.model_version


@admin.register(Batch)
class BatchAdmin(ReadOnlyAdmin):
    list_display = ("pk", "volunteer", "source", "class_name", "n_voted", "submitted_at")
    list_filter = ("source",)


admin.site.register(ProposalVote, ReadOnlyAdmin)
