from django.urls import path

from cx import actions, views

app_name = "cx"

urlpatterns = [
    path("orders/", views.order_lookup, name="order_lookup"),
    path("orders/<str:increment_id>/", views.order_detail, name="order_detail"),
    path("orders/<str:increment_id>/refresh/", actions.order_refresh_now, name="order_refresh"),
    path(
        "orders/<str:increment_id>/exceptions/<int:pk>/comment/",
        actions.exception_comment_add,
        name="exception_comment",
    ),
    path(
        "orders/<str:increment_id>/exceptions/<int:pk>/tell-magento/",
        actions.exception_tell_magento,
        name="exception_tell_magento",
    ),
]
