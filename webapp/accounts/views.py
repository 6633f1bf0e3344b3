"""Sign-up, login / API-token views that say so when the login limit refuses them, logout
that says it is done, and the password change page."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.accounts import login_limit, services
from webapp.accounts.forms import LimitedPasswordChangeForm, SignUpForm
from webapp.labeling.services import ASSIGNMENT_MAX_AGE_S, volunteer_register


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("labeling:label")
    form = SignUpForm(request.POST or None)
    address = login_limit.client_address(request)
    if request.method == "POST" and not services.signup_allowed(address=address):
        form.add_error(
            None,
            f"At most {settings.GLITCHLAB_SIGNUPS_PER_HOUR} new accounts an hour come from one "
            "address, and this one has had them: please try again in an hour.",
        )
        return render(request, "accounts/signup.html", {"form": form}, status=429)
    if request.method == "POST" and not services.signup_try_allowed(address=address):
        form.add_error(
            None,
            "Too many sign-up tries have come from this address this hour: please try again "
            "in an hour.",
        )
        return render(request, "accounts/signup.html", {"form": form}, status=429)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                user = form.save()
        except IntegrityError:  # taken between the form's check and the insert
            form.add_error(
                "username",
                "This username was taken a moment ago (a second click sends the form again): "
                "if it is yours, log in with it.",
            )
            return render(request, "accounts/signup.html", {"form": form})
        services.signup_counted(address=address)
        volunteer_register(user=user)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("labeling:label")
    return render(request, "accounts/signup.html", {"form": form})


class LoginView(auth_views.LoginView):
    """Django's login page; a pair (username, address) over the limit gets 429 and says why.
    The labelling page sends a volunteer whose session ended here with ?expired=1 (and
    &kept=1 when it kept votes pressed meanwhile, to send after the login): the page then
    says why it appeared (fixed sentences; nothing of the URL is shown)."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ended = self.request.GET.get("expired") == "1"
        kept = ended and self.request.GET.get("kept") == "1"
        context = super().get_context_data(**kwargs)
        # a kept vote counts while its glitch's assignment holds (labeling.services)
        held_minutes = ASSIGNMENT_MAX_AGE_S // 60
        return {**context, "session_ended": ended, "votes_kept": kept, "held_minutes": held_minutes}

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        if login_limit.locked_out(self.request):
            return login_limit.locked_out_page(self.request, form)
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    """Django's (POST only); the next page says it is done. The message goes in the message
    cookie (FallbackStorage tries it first): logout has emptied the session."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.success(request, "You are logged out.")
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's (login required, CSRF, the password validators, the session kept), with the
    old password under the login limit (forms.LimitedPasswordChangeForm); saving the new
    password ends the user's API token (apps.py) and their other sessions."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")
    form_class = LimitedPasswordChangeForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form: PasswordChangeForm) -> HttpResponse:
        if login_limit.locked_out(self.request):  # the login limit's 429, on this page
            form.add_error(None, login_limit.too_many_tries())
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_invalid(form)


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


class TokenRequestSerializer(AuthTokenSerializer):
    """DRF's, with the username bounded as the User model bounds it: a longer one cannot be
    anyone's, and is refused (400) before the login limit would record it (its column holds
    255 characters; PostgreSQL would fail the insert)."""

    username = serializers.CharField(
        label="Username",
        write_only=True,
        max_length=get_user_model()._meta.get_field("username").max_length,
    )


_TOKEN_OUT = inline_serializer(
    "TokenOut",
    {"token": serializers.CharField(), "expires": serializers.DateTimeField()},
)
_DETAIL = inline_serializer("TokenRefused", {"detail": serializers.CharField()})


class ObtainTokenView(ObtainAuthToken):
    """POST username + password -> API token, under the same login limit as the login page."""

    serializer_class = TokenRequestSerializer
    # REST_FRAMEWORK's DEFAULT_PARSER_CLASSES (a bounded JSON parser), as every API view's,
    # not the three ObtainAuthToken names (DRF's JSONParser: deep JSON was a 500).
    parser_classes = APIView.parser_classes

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: _TOKEN_OUT,
            400: OpenApiResponse(description="wrong username or password"),
            429: OpenApiResponse(_DETAIL, description="too many failed tries: wait"),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = self.get_serializer(data=request.data)
        if not incoming.is_valid():
            if login_limit.locked_out(request):
                return Response(
                    {"detail": login_limit.too_many_tries()},
                    status=status.HTTP_429_TOO_MANY_REQUESTS,
                )
            raise ValidationError(incoming.errors)
        token = services.token_issue(user=incoming.validated_data["user"])
        expires = token.created + services.token_lifetime()
        return Response({"token": token.key, "expires": expires})
