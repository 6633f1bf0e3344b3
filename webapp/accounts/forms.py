from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.forms import PasswordChangeForm, UserCreationForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from webapp.accounts import usernames


class SignUpForm(UserCreationForm):
    """Username and password only: volunteers need no e-mail to start labelling. The name
    is ASCII letters, digits and . _ -, and does not read like an existing one (usernames):
    Talk shows it beside the volunteer's comments."""

    class Meta(UserCreationForm.Meta):
        fields = ("username",)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["username"].help_text = usernames.HELP

    def clean_username(self) -> str:
        username = super().clean_username()  # Django's: not taken, case aside
        if username:  # none when Django's check has said why (the stubs say str)
            usernames.characters_check(username)
        return username

    def _post_clean(self) -> None:
        """Django's checks of the passwords (against the user too), then, only when the
        whole form is otherwise valid, whether the name reads like an existing one: that
        reads every username (usernames.too_alike), and a post with mismatched passwords
        made the scan as often as a script sent it."""
        super()._post_clean()  # type: ignore[misc]  # Django's, missing from the stubs
        username = self.cleaned_data.get("username")
        if username and not self.errors:
            try:
                usernames.alike_check(username)
            except ValidationError as error:
                self.add_error("username", error)


class LimitedPasswordChangeForm(PasswordChangeForm):
    """Django's, with the old password checked through authenticate(), so that the login
    limit (django-axes: per username and client address) counts a wrong one and refuses a
    locked pair, as on the login page. Django's form checks it with check_password, which
    the limit never sees: a stolen session could try old passwords there without end."""

    def __init__(self, user: User, request: HttpRequest, *args: Any, **kwargs: Any):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self) -> str:
        old = self.cleaned_data["old_password"]
        checked = authenticate(self.request, username=self.user.get_username(), password=old)
        if checked is None or checked.pk != self.user.pk:
            raise ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old
