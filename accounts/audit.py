"""The audit log: logins, failed logins and logouts, one line each on "sessiondemo.audit"."""

from __future__ import annotations

import logging

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from sessiondemo.client_address import client_ip

audit = logging.getLogger("sessiondemo.audit")


@receiver(user_logged_in, dispatch_uid="audit-login")
def log_login(sender, request, user, **kwargs):
    audit.info("login user=%s ip=%s", user.pk, client_ip(request) if request else "")


@receiver(user_login_failed, dispatch_uid="audit-login-failed")
def log_failed_login(sender, credentials, request=None, **kwargs):
    # Django masks the password in credentials; the username is what an operator needs.
    audit.warning(
        "login failed username=%r ip=%s", credentials.get("username", ""), client_ip(request) if request else ""
    )


@receiver(user_logged_out, dispatch_uid="audit-logout")
def log_logout(sender, request, user, **kwargs):
    audit.info("logout user=%s ip=%s", getattr(user, "pk", None), client_ip(request) if request else "")
