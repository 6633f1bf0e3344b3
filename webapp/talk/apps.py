from django.apps import AppConfig


class TalkConfig(AppConfig):
    name = "webapp.talk"
    verbose_name = "Talk"
