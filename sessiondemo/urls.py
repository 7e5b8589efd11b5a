from django.contrib import admin
from django.urls import include, path

from sessiondemo import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("accounts/", include("accounts.urls")),
    path("api/", include("cart.api_urls")),
    path("admin/", admin.site.urls),
    path("", include("observability.urls")),
    path("", include("cart.urls")),
]
