"""Sign-up, and login / API-token views behind the login rate limit (logout is Django's)."""

from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from rest_framework import status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.accounts import ratelimit
from webapp.accounts.forms import SignUpForm
from webapp.labeling.services import volunteer_register


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("labeling:label")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        volunteer_register(user=user)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("labeling:label")
    return render(request, "accounts/signup.html", {"form": form})


class LoginView(auth_views.LoginView):
    """Django's login page; after too many failed tries, 429 without checking the password."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if ratelimit.login_blocked(request, request.POST.get("username", "")):
            form = self.get_form()
            # Mark the form as cleaned, so the password is never checked (no authenticate()).
            form._errors, form.cleaned_data = ErrorDict(), {}
            form.add_error(None, ratelimit.TOO_MANY_TRIES)
            response = self.render_to_response(self.get_context_data(form=form))
            response.status_code = 429
            return response
        return super().post(request, *args, **kwargs)


class ObtainTokenView(ObtainAuthToken):
    """POST username + password -> API token, under the same limit as the login page."""

    def post(self, request: Request, *args, **kwargs) -> Response:
        username = str(request.data.get("username", "")) if hasattr(request.data, "get") else ""
        if ratelimit.login_blocked(request, username):
            return Response(
                {"detail": ratelimit.TOO_MANY_TRIES}, status=status.HTTP_429_TOO_MANY_REQUESTS
            )
        return super().post(request, *args, **kwargs)
