from django.urls import path

from webapp.discovery import api

urlpatterns = [
    path("subjects/<int:subject_id>/similar/", api.similar, name="api-discovery-similar"),
    path("map/", api.map_points, name="api-discovery-map"),
    path("batches/", api.batch_create, name="api-discovery-batch-create"),
    path("batches/next/", api.batch_next, name="api-discovery-batch-next"),
    path("batches/<int:batch_id>/submit/", api.batch_submit, name="api-discovery-batch-submit"),
]
