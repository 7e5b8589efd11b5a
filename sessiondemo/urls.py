from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from sessiondemo import health, views

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("accounts/", include("accounts.urls")),
    path("api/", include("cart.api_urls")),
    # Whatever else is under /api/ answers JSON, in DEBUG too (where handler404 is not used).
    re_path(r"^api/", views.api_not_found),
    path("admin/login/", include("accounts.admin_urls")),  # the admin's login, throttled like the site's
    path("admin/", admin.site.urls),
    path("", include("observability.urls")),
    path("", include("cart.urls")),
    # Browsers and tools ask for /favicon.ico whatever the page says.
    path("favicon.ico", RedirectView.as_view(url=static("sessiondemo/favicon.svg"), permanent=False)),
]

handler400 = "sessiondemo.views.bad_request"
handler403 = "sessiondemo.views.permission_denied"
handler404 = "sessiondemo.views.page_not_found"
handler500 = "sessiondemo.views.server_error"
