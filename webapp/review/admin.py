"""Admin: audit runs, suspects, verdicts, and the label change log with CSV export."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from webapp.labeling.models import Subject
from webapp.read_only_admin import ReadOnlyAdmin
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


def suspects_of_glitch(subject: Subject) -> str:
    """A link to every audit's suspects on this glitch in the admin (its search box)."""
    url = reverse("admin:review_suspect_changelist") + "?" + urlencode({"q": subject.external_id})
    return format_html('<a href="{}">its suspects in every audit</a>', url)


TO_CORRECT = (
    "Read-only: editing a verdict here would move neither the glitch's label nor the label "
    "change log, and deleting one would have the glitch asked about again. A verdict given "
    "by mistake is undone on the review page ({}: its reviewer's own, an admin's anyone's): "
    "a relabel's label goes back, the log records who, when and why, and the verdict stays "
    "here marked undone. Once the label has moved or been confirmed since, a reviewer "
    "corrects it instead from {}: open the review page of a suspect from an audit made after "
    "this verdict and relabel it there."
)


@admin.register(AuditRun)
class AuditRunAdmin(ReadOnlyAdmin):
    """Audits are started and cancelled on the review page; a run with verdicts cannot be
    deleted at all (Verdict.suspect is RESTRICT)."""

    list_display = ("id", "status", "trigger", "n_subjects", "n_gold", "n_issues", "created_at")
    list_filter = ("status", "trigger")


@admin.register(Suspect)
class SuspectAdmin(ReadOnlyAdmin):
    list_display = ("subject", "run", "rank", "given_label", "suggested_label", "score", "is_gold")
    list_filter = ("run", "is_gold", "is_issue")
    search_fields = ("subject__external_id",)
    readonly_fields = ("review_page",)

    @admin.display(description="review page")
    def review_page(self, suspect: Suspect) -> str:
        url = reverse("review:suspect", args=[suspect.pk])
        return format_html('<a href="{}">{}</a>', url, url)


@admin.register(Verdict)
class VerdictAdmin(ReadOnlyAdmin):
    list_display = (
        "subject",
        "reviewer",
        "decision",
        "label_before",
        "label_after",
        "created_at",
        "undone_at",
    )
    list_filter = ("decision", ("undone_at", admin.EmptyFieldListFilter))
    search_fields = ("subject__external_id", "reviewer__username", "reason")
    readonly_fields = ("to_correct",)

    def get_fields(self, request: HttpRequest, obj: Verdict | None = None) -> list[Any]:
        # The advice first, above the fields an admin came to change.
        fields = [f for f in super().get_fields(request, obj) if f != "to_correct"]
        return ["to_correct", *fields]

    @admin.display(description="to correct it")
    def to_correct(self, verdict: Verdict) -> str:
        verdicts = format_html(
            '<a href="{}">recent verdicts</a>', reverse("review:verdicts") + "?all=1"
        )
        return format_html(TO_CORRECT, verdicts, suspects_of_glitch(verdict.subject))


@admin.register(LabelChange)
class LabelChangeAdmin(ReadOnlyAdmin):
    """The log is append-only: changes are made by verdicts, their undoing and deprecations,
    never edited here."""

    list_display = (
        "created_at",
        "subject",
        "field",
        "before",
        "after",
        "changed_by",
        "cause",
        "undoes",
        "reason",
    )
    list_filter = ("field", "cause")
    search_fields = ("subject__external_id", "changed_by__username", "reason")
    actions = ["export_csv"]

    @admin.action(description="Export selected changes as CSV")
    def export_csv(self, request: HttpRequest, queryset: QuerySet[LabelChange]) -> HttpResponse:
        changes = queryset.select_related("subject", "changed_by", "verdict").order_by("created_at")
        return label_changes_csv(changes, "label-changes.csv")
