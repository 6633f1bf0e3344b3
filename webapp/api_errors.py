"""One rule for every API view: a service's django ValidationError is a 400, as DRF's own."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the ValidationError that services raise: answered 400 with the
    fields it names ({"label": [...]}) or its messages, like a serializer's errors."""
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(exc.message_dict if hasattr(exc, "message_dict") else exc.messages)
    return drf_exception_handler(exc, context)
