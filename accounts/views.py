"""Sign up, log in, log out, password change and the active-sessions page.

Login and logout are Django's own views: login rotates the session key (against
session fixation) and keeps the session's data, so the anonymous cart stays;
logout flushes the session, which deletes it in the store, not only the cookie.
"""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from accounts import active_sessions, throttle
from accounts.forms import SignupForm
from sessiondemo.client_address import client_ip


def signup(request):
    if request.user.is_authenticated:
        return redirect("cart:catalog")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.get_username()}: your account is ready and your cart came with you.")
        return redirect("cart:catalog")
    return render(request, "accounts/signup.html", {"form": form})


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        self.throttle_state = throttle.check(request.POST.get("username", ""), client_ip(request))
        lockout = self.throttle_state.lockout
        if lockout is not None:
            throttle.audit.warning("login refused (locked out %s) ip=%s", lockout.reason, client_ip(request))
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, lockout.message)
            response = self.render_to_response(self.get_context_data(form=form), status=429)
            response["Retry-After"] = str(lockout.retry_after)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        throttle.record_failure(self.request.POST.get("username", ""), client_ip(self.request))
        return super().form_invalid(form)

    def form_valid(self, form):
        response = super().form_valid(form)
        throttle.record_success(form.get_user().get_username(), self.throttle_state)
        messages.success(self.request, f"You are logged in as {form.get_user().get_username()}.")
        return response


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are logged out.")
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:sessions")

    def form_valid(self, form):
        response = super().form_valid(form)  # keeps this session logged in (update_session_auth_hash)
        revoked = active_sessions.revoke_others(self.request)
        messages.success(
            self.request,
            f"Your password is changed; {revoked} other session{'s' if revoked != 1 else ''} signed out.",
        )
        return response


@login_required
def sessions(request):
    return render(request, "accounts/sessions.html", {"sessions": active_sessions.for_request(request)})


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
    revoked = active_sessions.revoke_others(request)
    messages.success(request, f"Signed out {revoked} other session{'s' if revoked != 1 else ''}.")
    return redirect("accounts:sessions")


@login_required
@require_POST
def revoke_all(request):
    active_sessions.revoke_all(request)
    return redirect("accounts:login")
