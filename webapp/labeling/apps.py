from django.apps import AppConfig


class LabelingConfig(AppConfig):
    name = "webapp.labeling"
    verbose_name = "Labelling"
