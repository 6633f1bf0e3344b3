from django.apps import AppConfig


class ModelingConfig(AppConfig):
    name = "webapp.modeling"
    verbose_name = "Modeling"
