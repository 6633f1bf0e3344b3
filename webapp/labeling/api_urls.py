from django.urls import path

from webapp.accounts.views import ObtainTokenView
from webapp.labeling import api, api_exports

urlpatterns = [
    path("token/", ObtainTokenView.as_view(), name="api-token"),
    path("classes/", api.classes_list, name="api-classes"),
    path("subjects/next/", api.subject_next, name="api-subject-next"),
    path("subjects/<int:subject_id>/", api.subject_detail, name="api-subject-detail"),
    path("subjects/<int:subject_id>/unseen/", api.subject_unseen, name="api-subject-unseen"),
    path("classifications/", api.classification_create, name="api-classification-create"),
    path("classifications/undo/", api.classification_undo, name="api-classification-undo"),
    path("progress/", api.progress, name="api-progress"),
    path("exports/labels.csv", api_exports.labels_csv, name="api-labels-csv"),
    path("exports/labels.json", api_exports.labels_json, name="api-labels-json"),
    path("exports/votes.csv", api_exports.votes_csv, name="api-votes-csv"),
    path("exports/about.json", api_exports.about_json, name="api-exports-about"),
]
