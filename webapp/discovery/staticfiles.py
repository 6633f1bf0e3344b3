"""A static-files finder for the one file the map needs from the plotly package:
plotly.min.js, served as discovery/vendor/plotly.min.js without copying it into the repo."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

URL_PATH = "discovery/vendor/plotly.min.js"


def plotly_js() -> Path | None:
    spec = importlib.util.find_spec("plotly")  # locate without importing plotly
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


class PlotlyFinder(BaseFinder):
    def check(self, **kwargs: Any) -> list[Any]:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> Any:
        found = plotly_js() if path == URL_PATH else None
        if found is None:
            return [] if (find_all or kwargs.get("all")) else None
        return [str(found)] if (find_all or kwargs.get("all")) else str(found)

    def list(self, ignore_patterns: Any) -> Iterator[tuple[str, FileSystemStorage]]:
        """For collectstatic: the file, under the storage prefix discovery/vendor/."""
        found = plotly_js()
        if found is not None:
            storage = FileSystemStorage(location=str(found.parent))
            storage.prefix = URL_PATH.rsplit("/", 1)[0]  # type: ignore[attr-defined]
            yield found.name, storage
