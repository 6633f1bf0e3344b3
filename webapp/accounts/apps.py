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
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_in, user_logged_out
        from django.db.models.signals import pre_save

        user_logged_in.connect(_kept_posts_at_login, dispatch_uid="glitchlab-kept-posts-login")
        user_logged_out.connect(_revoke_token_at_logout, dispatch_uid="glitchlab-token-logout")
        pre_save.connect(
            _revoke_token_at_password_change,
            sender=get_user_model(),
            dispatch_uid="glitchlab-token-password",
        )


def _kept_posts_at_login(
    sender: Any, request: HttpRequest | None, user: User, **kwargs: Any
) -> None:
    """A post kept without a session is the next login's only on its way to its page (and,
    a cluster sheet's, only its volunteer's): webapp.accounts.kept_posts."""
    if request is None or not hasattr(request, "session"):
        return
    from webapp.accounts import kept_posts

    next_url = request.POST.get("next") or request.GET.get("next", "")
    kept_posts.at_login(request.session, user_id=user.pk, next_url=next_url)


def _revoke_token_at_logout(
    sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any
) -> None:
    """Logging out ends the API token too: a token left in a script must not outlive it."""
    from webapp.accounts.services import token_revoke

    if user is not None:
        token_revoke(user=user)


def _revoke_token_at_password_change(
    sender: Any, instance: User, update_fields: frozenset[str] | None = None, **kwargs: Any
) -> None:
    """A new password ends the API token too, whichever way it was set (the password page,
    the admin, set_password and save): Django's session check already logs out the other
    browsers, and a token taken with a leaked password must not work on for its lifetime.
    Deleted before the save: should the save then fail, the user only asks for a new token."""
    from webapp.accounts.services import password_changes_on_save, token_revoke

    if password_changes_on_save(user=instance, update_fields=update_fields):
        token_revoke(user=instance)
