"""/admin/login/, routed ahead of the admin's own URLs (sessiondemo/urls.py) to the throttled login."""

from django.urls import path

from accounts import views

urlpatterns = [path("", views.admin_login, name="admin-login")]
