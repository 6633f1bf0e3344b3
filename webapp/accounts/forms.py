from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.forms import PasswordChangeForm, UserCreationForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest


class SignUpForm(UserCreationForm):
    """Username and password only: volunteers need no e-mail to start labelling."""

    class Meta(UserCreationForm.Meta):
        fields = ("username",)


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
