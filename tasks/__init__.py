"""Celery tasks of GlitchLab: the one layer that imports both webapp and ml.

`celery -A tasks worker` finds the app here.
"""

from tasks.celery import app

__all__ = ["app"]
