"""DRF serializers on the vote path without the cost of making one per request.

Every Serializer made deep-copies its declared fields (nested serializers and list
children included) and binds them to itself: for a vote's answer (the vote, the
volunteer's progress and the next subject with its four images) that was about 35 field
copies per request, more CPU than the SQL of the vote. The fields do not depend on the
request, so each thread keeps one bound serializer per class and calls its
`to_representation` / `run_validation` directly: the same code DRF runs inside `.data`
and `.is_valid()`, so the serializer class stays the one definition of each JSON shape
(and of the OpenAPI schema). tests/webapp/test_bound_serializers.py checks the output and
the validation errors against DRF's own path.

For serializers without context: a serializer that reads `self.context` (or keeps state
between calls) must be made per request as usual.
"""

from __future__ import annotations

import threading
from typing import Any

from rest_framework.serializers import Serializer

_local = threading.local()


def _bound(serializer_class: type[Serializer]) -> Serializer:
    by_class: dict[type[Serializer], Serializer] | None = getattr(_local, "by_class", None)
    if by_class is None:
        by_class = _local.by_class = {}
    serializer = by_class.get(serializer_class)
    if serializer is None:
        serializer = serializer_class()
        serializer.fields  # noqa: B018  (the deep copy and binding, once per thread)
        by_class[serializer_class] = serializer
    return serializer


def represent(serializer_class: type[Serializer], instance: Any) -> Any:
    """`serializer_class(instance).data`, as plain dicts and lists."""
    return _bound(serializer_class).to_representation(instance)


def validate(serializer_class: type[Serializer], data: Any) -> Any:
    """`serializer_class(data=data)`'s validated_data, or the ValidationError (with the
    same detail) that `.is_valid(raise_exception=True)` raises."""
    return _bound(serializer_class).run_validation(data)
