"""ReadOnlyAdmin: a model admin that shows rows and never adds, edits or deletes them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never added, edited or deleted here: the rows are what volunteers, reviewers
    and jobs did, and the services that write them also keep what depends on them (a
    glitch's counts and consensus, its label and the change log, the queue's order). An
    edit here moved none of that: a vote changed to another class left the glitch's
    posterior counting the old one."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
