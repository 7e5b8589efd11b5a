"""The authentication backend every login door goes through: throttled, and aware of sign-out cutoffs.

Whatever calls django.contrib.auth.authenticate() (the site's login, the admin's,
anything added later) meets the throttle here: a locked-out attempt is refused before
the password is checked, and a wrong password is counted. get_user() reads the user's
sign-out cutoff in the same query as the user, for SiteUser's session hash.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from accounts import throttle
from accounts.models import SiteUser


class AccountBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(SiteUser.USERNAME_FIELD)
        if username is None or password is None:
            return None
        attempt = throttle.Attempt.of(request, username)
        state = throttle.check(attempt)
        if state.lockout is not None:
            throttle.audit.warning("login refused (%s) ip=%s", state.lockout.what.lower(), attempt.address)
            _note(request, login_lockout=state.lockout)
            raise PermissionDenied(state.lockout.message)
        user = self._user_with_password(attempt.username, password)
        if user is None:
            throttle.record_failure(attempt, state)
            # Stop here: ModelBackend, listed after this one only for sessions signed in
            # before it existed, must not check the same password a second time.
            raise PermissionDenied("The username or password is wrong.")
        throttle.record_success(attempt, state)
        _note(request, login_username=attempt.username)
        return user

    async def aauthenticate(self, request, username=None, password=None, **kwargs):
        return await sync_to_async(self.authenticate)(request, username, password, **kwargs)

    def get_user(self, user_id):
        try:
            user = SiteUser._default_manager.select_related("session_cutoff").get(pk=user_id)
        except SiteUser.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def _user_with_password(self, username: str, password: str) -> SiteUser | None:
        try:
            user = SiteUser._default_manager.select_related("session_cutoff").get(**{SiteUser.USERNAME_FIELD: username})
        except SiteUser.DoesNotExist:
            # Hash once anyway, so that the time taken does not say whether the user exists (Django #20760).
            SiteUser().set_password(password)
            return None
        return user if user.check_password(password) and self.user_can_authenticate(user) else None


def _note(request, **facts) -> None:  # type: ignore[no-untyped-def]
    """Tell the view what happened (a lockout to answer 429 to, a login to give a device cookie for)."""
    if request is not None:
        for name, value in facts.items():
            setattr(request, name, value)
