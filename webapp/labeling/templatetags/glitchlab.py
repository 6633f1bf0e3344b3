"""Template filters every page shares: how a class name and a moment in time are shown.

{% load glitchlab %} then {{ name|class_name }} ("Koi_Fish" -> "Koi Fish") and
{{ moment|when }} (a <time> element: "3 minutes ago", the exact UTC time on hover) and
{{ seconds|seconds }} ("12 min 5 s").
"""

from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince, timeuntil

from webapp.labeling.models import class_display_name

register = template.Library()


@register.filter
def class_name(name: object) -> str:
    """A class name as people read it: underscores as spaces (the stored name is unchanged)."""
    return class_display_name(str(name)) if name else ""


@register.filter
def when(moment: datetime | str | None) -> SafeString | str:
    """A datetime (or an ISO string, as the dashboard's JSON state holds them) as a relative
    time in a <time> element whose title is the exact UTC time; empty for None."""
    if isinstance(moment, str):
        moment = parse_datetime(moment)
    if moment is None:
        return ""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    exact = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', moment.isoformat(), exact, relative_time(moment)
    )


def relative_time(moment: datetime) -> str:
    """An aware datetime as "3 minutes ago", "in 2 hours", or "just now" within a minute
    either way (timesince's "0 minutes ago" read as a glitch of the page). Pages use it
    through `when`; a message that says when does so here."""
    now = timezone.now()
    if abs((now - moment).total_seconds()) < 60:
        return "just now"
    if moment <= now:
        return f"{timesince(moment, now, depth=1)} ago"
    return f"in {timeuntil(moment, now, depth=1)}"


@register.filter
def seconds(value: float | int | None) -> str:
    """A duration in seconds as people read it: "45 s", "12 min 5 s", "2 h 3 min"."""
    if value is None:
        return ""
    total = round(float(value))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"
