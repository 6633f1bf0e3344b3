"""The admin's user pages: Django's, with a new name checked as at sign-up (usernames): an
admin making or renaming an account gets the same refusal as a volunteer signing up."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import User

from webapp.accounts import usernames


class UserAddForm(AdminUserCreationForm):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["username"].help_text = usernames.HELP

    def clean_username(self) -> str:
        username = super().clean_username()  # Django's: not taken, case aside
        if username:
            usernames.new_username_check(username)
        return username


class UserEditForm(UserChangeForm):
    def clean_username(self) -> str:
        """A renamed account's new name (an account's old name stays as it is, ASCII or
        not, when only its groups or flags change)."""
        username: str = self.cleaned_data["username"]
        if "username" in self.changed_data:
            usernames.new_username_check(username, other_than=self.instance.pk)
        return username


class CheckedUserAdmin(UserAdmin):
    add_form = UserAddForm
    form = UserEditForm


admin.site.unregister(User)
admin.site.register(User, CheckedUserAdmin)
