from django.urls import path

from webapp.review import api, views

app_name = "review"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("suspects/<int:suspect_id>/", views.suspect, name="suspect"),
    path("suspects/<int:suspect_id>/verdict/", views.verdict, name="verdict"),
    path("verdicts/", views.verdicts, name="verdicts"),
    path("verdicts/<int:verdict_id>/undo/", views.verdict_undo, name="verdict_undo"),
    path("changes.csv", views.changes_csv, name="changes_csv"),
    path("audit/", views.audit_now, name="audit_now"),
    path("audit/<int:run_id>/cancel/", views.audit_cancel, name="audit_cancel"),
    path("api/suspects/next/", api.suspect_next, name="api_suspect_next"),
    path("api/suspects/<int:suspect_id>/verdict/", api.verdict_create, name="api_verdict"),
    path("api/verdicts/<int:verdict_id>/undo/", api.verdict_undo, name="api_verdict_undo"),
]
