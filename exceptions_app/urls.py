from django.urls import path

from exceptions_app import views

app_name = "ops"

urlpatterns = [
    path("exceptions/", views.exception_list, name="exception_list"),
]
