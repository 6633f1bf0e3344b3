from django.apps import AppConfig


class LabelingConfig(AppConfig):
    name = "webapp.labeling"
    verbose_name = "Labelling"

    def ready(self) -> None:
        # Refuse to start (web, worker, manage.py) with consensus settings that would let
        # volunteers without gold history retire subjects, not at the first vote.
        from webapp.labeling import config

        config.consensus_rules()
