"""Talk under /talk/: comments on a glitch (shown on its page), moderation, tag pages."""

from django.urls import path

from webapp.talk import views

app_name = "talk"
urlpatterns = [
    path("", views.home, name="home"),
    path("subjects/<int:subject_id>/comments/", views.comment_post, name="comment_post"),
    # before the route below, whose <str:action> would take "confirm-delete"
    path(
        "comments/<int:comment_id>/confirm-delete/",
        views.comment_delete_confirm,
        name="comment_delete_confirm",
    ),
    path(
        "comments/<int:comment_id>/<str:action>/",
        views.comment_moderate,
        name="comment_moderate",
    ),
    path("tags/<str:name>/", views.tag_detail, name="tag"),
    path("tags/<str:name>/batch/", views.tag_batch, name="tag_batch"),
    path("tags/<str:name>/propose/", views.tag_propose, name="tag_propose"),
]
