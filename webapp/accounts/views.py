"""Sign-up (login and logout are Django's own views, see urls.py)."""

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

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
