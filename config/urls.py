"""URL map. Every named route must be classified in accounts/roles.py."""

from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from integration import views as health_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("ops/", include("exceptions_app.urls")),
    path("finance/", include("reconciliation.urls")),
    path("cx/", include("cx.urls")),
    path("health/", include("integration.health_urls")),
    path("healthz", health_views.healthz, name="healthz"),
    path("metrics", health_views.metrics, name="metrics"),
    path("mappings/", include("integration.mapping_urls")),
    path("admin/", admin.site.urls),
]

handler403 = "accounts.views.forbidden"
