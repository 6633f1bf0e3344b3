from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "webapp.accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from webapp.accounts import ratelimit  # noqa: F401 - connects the failed-login counter
