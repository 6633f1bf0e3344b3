from django.urls import path

from webapp.labeling import views

app_name = "labeling"
urlpatterns = [
    path("", views.home, name="home"),
    path("label/", views.label, name="label"),
    path("field-guide/", views.field_guide, name="field_guide"),
    path("subjects/<int:subject_id>/", views.subject_detail, name="subject_detail"),
    path("me/glitches/", views.my_glitches, name="my_glitches"),
    path(
        "subjects/<int:subject_id>/field-guide/",
        views.subject_field_guide_add,
        name="subject_field_guide_add",
    ),
]
