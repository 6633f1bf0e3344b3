from django.urls import path

from webapp.labeling import views

app_name = "labeling"
urlpatterns = [
    path("", views.home, name="home"),
    path("label/", views.label, name="label"),
    path("field-guide/", views.field_guide, name="field_guide"),
    path("subjects/<int:subject_id>/", views.subject_detail, name="subject_detail"),
]
