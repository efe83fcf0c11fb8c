from django.urls import path

from reconciliation import views

app_name = "finance"

urlpatterns = [
    path("reconciliation/", views.reconciliation_index, name="reconciliation_index"),
]
