"""login_required and require_POST for a view behind a page's form, made for a session that
ended while the form was filled in: login's next= sent the volunteer back to the URL they
had posted to, with a GET, and they met a bare 405 with their words lost."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

View = Callable[..., HttpResponse]
# The path of the page whose form posts to the view, from the request and the view's URL
# arguments (a thread from the glitch's id, a tag's page from its name).
Page = Callable[..., str]
# What to keep of an anonymous POST in the session before login, which keeps its data.
Keep = Callable[..., None]


def login_required_post(page: Page, keep: Keep | None = None) -> Callable[[View], View]:
    """An anonymous request goes to login with next= the form's page, not the view's URL
    (`keep` first saves what it can of a POST: a comment's text); a signed-in GET (a
    bookmark, a reload, an older login's next=) goes to that page rather than a 405."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                if keep is not None and request.method == "POST":
                    keep(request, *args, **kwargs)
                return redirect_to_login(page(request, *args, **kwargs))
            if request.method != "POST":
                return redirect(page(request, *args, **kwargs))
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
