"""The site's answers when something goes wrong: pages in the site's frame with a way back,
JSON under /api/ (or when the caller asks for JSON), never Django's bare pages in production.

The pages are rendered without the context processors that read the session: an error page
is shown when something already failed (Redis down, a broken request), so it must not fail again.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt

from sessiondemo.instance import instance_name


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def back_url(request: HttpRequest) -> str | None:
    """The page the user came from, when it is on this site and is not the failing address itself."""
    referer = request.headers.get("Referer", "")
    try:
        host = request.get_host()
    except DisallowedHost:  # the very reason for a 400: no way back through it
        return None
    if not url_has_allowed_host_and_scheme(referer, {host}, require_https=request.is_secure()):
        return None
    parts = urlsplit(referer)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return path if path.startswith("/") and parts.path != request.path else None


def error_page(request: HttpRequest, template: str, status: int, **context) -> HttpResponse:
    html = render_to_string(template, {"back_url": back_url(request), "served_by": instance_name(request)} | context)
    return HttpResponse(html, status=status)


def error_json(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return error_json("The request was malformed; nothing was changed. Check it and send it again.", 400)
    return error_page(request, "400.html", 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Our own PermissionDenied carries a sentence for the user ("Only staff may ...").
    reason = str(exception) if exception is not None and str(exception).endswith(".") else ""
    if wants_json(request):
        return error_json(reason or "You may not do that here.", 403)
    return error_page(request, "403.html", 403, reason=reason)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return error_json(f"There is nothing at {request.path[:200]}; the API's addresses are in the README.", 404)
    return error_page(request, "404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    if wants_json(request):
        return error_json("An error on our side stopped this request; it has been logged. Try again shortly.", 500)
    return error_page(request, "500.html", 500)


def too_many_requests(request: HttpRequest, retry_after: int, reason: str = "") -> HttpResponse:
    """A 429 with Retry-After, for anything in the site that refuses by rate: a page, or JSON under /api/."""
    if wants_json(request):
        response: HttpResponse = error_json(
            reason or f"Too many requests from this address; try again in {retry_after} s.", 429
        )
    else:
        response = error_page(request, "429.html", 429, reason=reason, retry_after=retry_after)
    response["Retry-After"] = str(retry_after)
    return response


@csrf_exempt  # it changes nothing, and a POST to a mistyped address deserves the 404, not a CSRF 403
def api_not_found(request: HttpRequest) -> JsonResponse:
    """Any address under /api/ that names no endpoint: JSON, whatever the method (DEBUG or not)."""
    return error_json(f"There is no API endpoint at {request.path[:200]}; the endpoints are listed in the README.", 404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A stale or forged form: the site's 403 page with a way back; the JSON API gets a sentence."""
    if wants_json(request):
        # Django's reasons end with a full stop ("CSRF token missing."); the sentence has its own.
        because = f" ({reason.rstrip('.')})" if reason else ""
        return error_json(
            f"The CSRF check failed{because}. Send the csrftoken cookie's value in the X-CSRFToken header.", 403
        )
    return error_page(request, "403_csrf.html", 403, reason=reason if settings.DEBUG else "")
