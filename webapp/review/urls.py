from django.urls import path

from webapp.review import views

app_name = "review"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("suspects/<int:suspect_id>/", views.suspect, name="suspect"),
    path("suspects/<int:suspect_id>/verdict/", views.verdict, name="verdict"),
    path("changes.csv", views.changes_csv, name="changes_csv"),
    path("audit/", views.audit_now, name="audit_now"),
]
