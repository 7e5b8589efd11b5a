"""The admin's login goes through the one throttle: its form says why a login was refused.

The backend (accounts.backends.AccountBackend) refuses a locked-out login at any door;
this form puts the sentence on the admin's page, and accounts.views.admin_login (routed
at /admin/login/) answers it with a 429 and Retry-After.
"""

from django.contrib import admin

from accounts.forms import AdminLoginForm

admin.site.login_form = AdminLoginForm
