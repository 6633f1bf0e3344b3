"""Discovery pages under /discovery/ and its API under /api/discovery/ (one include)."""

from django.urls import include, path

from webapp.discovery import views

app_name = "discovery"
urlpatterns = [
    path("discovery/", views.home, name="home"),
    path("discovery/map/", views.map_page, name="map"),
    path("discovery/sheet/", views.sheet, name="sheet"),
    path("discovery/sheet/<int:batch_id>/", views.sheet_submit, name="sheet_submit"),
    path(
        "discovery/embeddings/<int:set_id>/cancel/",
        views.embedding_cancel,
        name="embedding_cancel",
    ),
    path(
        "discovery/models/<int:version_id>/embed/",
        views.embed_again,
        name="embed_again",
    ),
    path(
        "discovery/embeddings/<int:set_id>/map/",
        views.map_again,
        name="map_again",
    ),
    path(
        "discovery/proposals/<int:proposal_id>/<str:action>/",
        views.proposal_action,
        name="proposal_action",
    ),
    path("api/discovery/", include("webapp.discovery.api_urls")),
]
