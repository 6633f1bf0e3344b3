from typing import Any

from django.apps import AppConfig
from django.http import HttpRequest


class TalkConfig(AppConfig):
    name = "webapp.talk"
    verbose_name = "Talk"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        user_logged_in.connect(_draft_at_login, dispatch_uid="talk-draft-at-login")


def _draft_at_login(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    """A draft kept without a session is the next login's only on its way to its thread."""
    if request is None or not hasattr(request, "session"):
        return
    from webapp.talk import drafts

    drafts.at_login(request.session, request.POST.get("next") or request.GET.get("next", ""))
