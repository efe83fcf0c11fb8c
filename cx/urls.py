from django.urls import path

from cx import views

app_name = "cx"

urlpatterns = [
    path("orders/", views.order_lookup, name="order_lookup"),
    path("orders/<str:increment_id>/", views.order_detail, name="order_detail"),
]
