"""Sign up, log in (the site's and the admin's), log out, password change and the active-sessions page.

Login and logout are Django's own views: login rotates the session key (against
session fixation) and keeps the session's data, and the guest cart merges into the
account's (the session engine's USER_COUNTERS), which the message names; logout
flushes the session, which deletes it in the store, not only the cookie, while the
cart stays with the account.
Every door to a password goes through accounts.throttle; a refusal answers 429 with
Retry-After and a sentence.
"""

from django.contrib import admin, messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from accounts import active_sessions, devices, throttle
from accounts.forms import LoginForm, PasswordChangeForm, SignupForm
from cart.cart import Cart, merged_sentence
from sessiondemo.client_address import client_ip

BACKEND = "accounts.backends.AccountBackend"


def too_many(response, lockout: throttle.Lockout):  # type: ignore[no-untyped-def]
    response.status_code = 429
    response["Retry-After"] = str(lockout.retry_after)
    return response


def finish_login(request, response):  # type: ignore[no-untyped-def]
    """A refused login answers 429; a successful one gives this browser its device cookie."""
    lockout = getattr(request, "login_lockout", None)
    if lockout is not None:
        return too_many(response, lockout)
    username = getattr(request, "login_username", None)
    if username is not None and request.user.is_authenticated:
        devices.remember(request, response, username)
    return response


def signup(request):
    if request.user.is_authenticated:
        return redirect("cart:catalog")
    form = SignupForm(request.POST or None)
    if request.method != "POST":
        return render(request, "accounts/signup.html", {"form": form})
    address = client_ip(request)
    lockout = throttle.signup_lockout(address)
    if lockout is not None:
        throttle.audit.warning("sign-up refused (%s) ip=%s", lockout.what.lower(), address)
        form.errors.clear()
        form.add_error(None, lockout.message)
        return too_many(render(request, "accounts/signup.html", {"form": form}), lockout)
    throttle.record_signup(address)
    if not form.is_valid():
        return render(request, "accounts/signup.html", {"form": form})
    user = form.save()
    login(request, user, backend=BACKEND)
    messages.success(request, f"Welcome, {user.get_username()}: your account is ready and your cart came with you.")
    response = redirect("cart:catalog")
    devices.remember(request, response, form.cleaned_data["username"])
    return response


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        return finish_login(request, super().post(request, *args, **kwargs))

    def form_valid(self, form):
        guest_cart = Cart(self.request.session).lines()  # merged into the account's as the login is saved
        response = super().form_valid(form)
        messages.success(self.request, f"You are logged in as {form.get_user().get_username()}.")
        if guest_cart:
            messages.info(self.request, merged_sentence(guest_cart))
        return response


def admin_login(request):
    """Django admin's own login page (admin.site.login_form is the throttled form), with the site's answers."""
    return finish_login(request, admin.site.login(request))


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are logged out.")
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("accounts:sessions")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form):
        response = super().form_invalid(form)
        return too_many(response, form.lockout) if form.lockout is not None else response

    def form_valid(self, form):
        response = super().form_valid(form)  # keeps this session signed in (update_session_auth_hash)
        # The new password already ends every other session (Django's session hash); this deletes
        # the ones the index lists at once.
        listed = active_sessions.delete_listed_others(
            self.request, "password changed, other sessions revoked", reason="password"
        )
        messages.success(self.request, f"Your password is changed. {active_sessions.signed_out_sentence(listed)}")
        return response


@login_required
def sessions(request):
    listed = active_sessions.for_request(request)
    # The index in Redis may have been evicted or trimmed: a list without this very session is known short.
    complete = listed is None or any(session.is_current for session in listed)
    return render(request, "accounts/sessions.html", {"sessions": listed, "list_complete": complete})


@login_required
@require_POST
def revoke(request, digest):
    if active_sessions.revoke_one(request, digest):
        messages.success(request, "That session is signed out.")
    else:
        messages.error(request, "That session was already gone.")
    return redirect("accounts:sessions")


@login_required
@require_POST
def revoke_others(request):
    listed = active_sessions.revoke_others(request)
    messages.success(request, active_sessions.signed_out_sentence(listed))
    return redirect("accounts:sessions")


@login_required
@require_POST
def revoke_all(request):
    active_sessions.revoke_all(request)
    return redirect("accounts:login")
