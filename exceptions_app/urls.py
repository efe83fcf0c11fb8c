from django.urls import path

from exceptions_app import views

app_name = "ops"

urlpatterns = [
    path("exceptions/", views.exception_list, name="exception_list"),
    path("exceptions/<int:pk>/", views.exception_detail, name="exception_detail"),
    path("exceptions/<int:pk>/<slug:action>/", views.exception_action, name="exception_action"),
]
