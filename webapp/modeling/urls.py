from django.urls import path

from webapp.modeling import views

app_name = "modeling"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("status.json", views.status, name="status"),
    path("retrain/", views.retrain, name="retrain"),
    path("runs/<int:run_id>/cancel/", views.cancel, name="cancel"),
    path("runs/<int:run_id>/retry/", views.retry, name="retry"),
    path("versions/<int:version_id>/promote/", views.promote, name="promote"),
    path("versions/<int:version_id>/confusion.png", views.confusion_png, name="confusion"),
    path("rollback/", views.rollback, name="rollback"),
]
