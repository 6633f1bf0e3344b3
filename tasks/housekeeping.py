"""Periodic tidying that keeps the database from growing for ever."""

from __future__ import annotations

from importlib import import_module

from celery import shared_task
from django.conf import settings


@shared_task(name="tasks.housekeeping.clear_expired_sessions", time_limit=600)
def clear_expired_sessions() -> None:
    """Delete expired sessions (Django's `clearsessions`): the database session backend
    keeps every session row after it expires, one per login and per kept draft, until
    someone deletes them; nothing did."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
