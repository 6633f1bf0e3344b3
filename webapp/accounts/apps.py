from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.apps import AppConfig

if TYPE_CHECKING:  # apps.py is imported before the models may be
    from django.contrib.auth.models import User
    from django.http import HttpRequest


class AccountsConfig(AppConfig):
    name = "webapp.accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        user_logged_out.connect(_revoke_token_at_logout, dispatch_uid="glitchlab-token-logout")


def _revoke_token_at_logout(
    sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any
) -> None:
    """Logging out ends the API token too: a token left in a script must not outlive it."""
    from webapp.accounts.services import token_revoke

    if user is not None:
        token_revoke(user=user)
