"""Django's own account forms, each door to a password going through the one throttle (accounts.throttle)."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import forms as auth_forms

from accounts import throttle


class LockoutMessageMixin:
    """Say why a login was refused when the throttle refused it (AccountBackend notes it on the request)."""

    def get_invalid_login_error(self):  # type: ignore[no-untyped-def]
        lockout = getattr(self.request, "login_lockout", None)  # type: ignore[attr-defined]
        if lockout is not None:
            return forms.ValidationError(lockout.message, code="locked_out")
        return super().get_invalid_login_error()  # type: ignore[misc]


class LoginForm(LockoutMessageMixin, auth_forms.AuthenticationForm):
    """The site's login form."""


class AdminLoginForm(LockoutMessageMixin, AdminAuthenticationForm):
    """The admin's login form (admin.site.login_form, set in accounts/admin.py)."""


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """A wrong old password counts as a failed login, and a lockout refuses the change."""

    def __init__(self, user, *args, request=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(user, *args, **kwargs)
        self.request = request
        self.lockout: throttle.Lockout | None = None

    def clean_old_password(self):  # type: ignore[no-untyped-def]
        attempt = throttle.Attempt.of(self.request, self.user.get_username())
        state = throttle.check(attempt)
        if state.lockout is not None:
            self.lockout = state.lockout
            raise forms.ValidationError(state.lockout.message, code="locked_out")
        try:
            return super().clean_old_password()
        except forms.ValidationError:
            throttle.record_failure(attempt, state)
            raise


class SignupForm(auth_forms.UserCreationForm):
    """Django's own sign-up form: username, password1, password2."""
