from django.contrib.auth.forms import UserCreationForm


class SignUpForm(UserCreationForm):
    """Username and password only: volunteers need no e-mail to start labelling."""

    class Meta(UserCreationForm.Meta):
        fields = ("username",)
