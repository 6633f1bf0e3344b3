"""Admin: audit runs, suspects, verdicts, and the label change log with CSV export."""

from __future__ import annotations

import csv

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from webapp.review import selectors
from webapp.review.models import AuditRun, LabelChange, Suspect, Verdict
from webapp.spreadsheet import spreadsheet_cell


def label_changes_csv(changes: QuerySet[LabelChange], filename: str) -> HttpResponse:
    """The label change log as CSV, for admins to open in a spreadsheet: reasons are free
    text, so every text cell goes through spreadsheet_cell."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(selectors.CSV_HEADER)
    for row in selectors.label_change_rows(changes):
        writer.writerow([spreadsheet_cell(value) for value in row])
    return response


@admin.register(AuditRun)
class AuditRunAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "trigger", "n_subjects", "n_gold", "n_issues", "created_at")
    list_filter = ("status", "trigger")
    readonly_fields = ("started_at", "finished_at", "error", "features")


@admin.register(Suspect)
class SuspectAdmin(admin.ModelAdmin):
    list_display = ("subject", "run", "rank", "given_label", "suggested_label", "score", "is_gold")
    list_filter = ("run", "is_gold", "is_issue")
    search_fields = ("subject__external_id",)
    raw_id_fields = ("subject",)


@admin.register(Verdict)
class VerdictAdmin(admin.ModelAdmin):
    list_display = ("subject", "reviewer", "decision", "label_before", "label_after", "created_at")
    list_filter = ("decision",)
    search_fields = ("subject__external_id", "reviewer__username", "reason")
    raw_id_fields = ("subject", "suspect")


@admin.register(LabelChange)
class LabelChangeAdmin(admin.ModelAdmin):
    """The log is append-only: changes are made by verdicts and deprecations, never edited
    here."""

    list_display = (
        "created_at",
        "subject",
        "field",
        "before",
        "after",
        "changed_by",
        "cause",
        "reason",
    )
    list_filter = ("field", "cause")
    search_fields = ("subject__external_id", "changed_by__username", "reason")
    actions = ["export_csv"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Export selected changes as CSV")
    def export_csv(self, request: HttpRequest, queryset: QuerySet[LabelChange]) -> HttpResponse:
        changes = queryset.select_related("subject", "changed_by", "verdict").order_by("created_at")
        return label_changes_csv(changes, "label-changes.csv")
