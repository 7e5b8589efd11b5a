from django.urls import path

from observability import views

app_name = "observability"

urlpatterns = [
    path("metrics", views.prometheus_metrics, name="metrics"),
    path("ops/", views.ops_page, name="ops"),
    path("ops/data.json", views.ops_data, name="ops-data"),
]
