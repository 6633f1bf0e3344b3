from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token

from webapp.labeling import api

urlpatterns = [
    path("token/", obtain_auth_token, name="api-token"),
    path("classes/", api.classes_list, name="api-classes"),
    path("subjects/next/", api.subject_next, name="api-subject-next"),
    path("subjects/<int:subject_id>/", api.subject_detail, name="api-subject-detail"),
    path("classifications/", api.classification_create, name="api-classification-create"),
    path("classifications/undo/", api.classification_undo, name="api-classification-undo"),
    path("progress/", api.progress, name="api-progress"),
]
