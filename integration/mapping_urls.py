from django.urls import path

from integration import mapping_views

app_name = "mappings"

urlpatterns = [
    path("erp-items/", mapping_views.erp_item_search, name="erp_item_search"),
]
