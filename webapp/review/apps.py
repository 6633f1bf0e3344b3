from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "webapp.review"
    verbose_name = "Label review"
