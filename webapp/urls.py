"""URL routes of GlitchLab."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView

from webapp import api_docs
from webapp.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("webapp.accounts.urls")),
    path("api/", include("webapp.labeling.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs.swagger_ui, name="api-docs"),
    path("api/redoc/", api_docs.redoc, name="api-redoc"),
    path("modeling/", include("webapp.modeling.urls")),
    path("review/", include("webapp.review.urls")),
    path("talk/", include("webapp.talk.urls")),
    path("", include("webapp.discovery.urls")),  # /discovery/ and /api/discovery/
    path("", include("webapp.labeling.urls")),
]

# Media (glitch images) are served by Django itself: a self-hosted app behind one process.
# A production deployment may put a web server in front of MEDIA_ROOT instead.
urlpatterns += [
    path(
        f"{settings.MEDIA_URL.strip('/')}/<path:path>",
        serve,
        {"document_root": settings.MEDIA_ROOT},
    )
]
