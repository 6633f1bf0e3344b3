"""The API's documentation pages: Swagger UI at /api/docs/ and Redoc at /api/redoc/, both
served from the drf-spectacular-sidecar package (no CDN), over /api/schema/.

Both build their pages with style attributes and <style> elements (React, styled-components),
so these two pages alone allow inline styles; scripts stay this site's own (the Swagger UI
set-up script is a separate request: SpectacularSwaggerSplitView), and Redoc runs its search
in a worker made from a blob: URL. Redoc's bundle also shows its maker's logo from
cdn.redoc.ly: the CSP's img-src blocks it, so nothing is fetched from there.
"""

from __future__ import annotations

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

DOCS_CSP = {
    "style-src": [UNSAFE_INLINE],
    "worker-src": [SELF, "blob:"],
}

swagger_ui = csp_update(DOCS_CSP)(
    SpectacularSwaggerSplitView.as_view(
        url_name="api-schema", template_name="api_docs/swagger_ui.html"
    )
)
redoc = csp_update(DOCS_CSP)(
    SpectacularRedocView.as_view(url_name="api-schema", template_name="api_docs/redoc.html")
)
