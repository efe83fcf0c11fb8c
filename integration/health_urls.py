from django.urls import path

from integration import views

app_name = "health"

urlpatterns = [
    path("", views.health_dashboard, name="dashboard"),
    path("panel/", views.health_panel, name="panel"),
]
