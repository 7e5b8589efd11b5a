"""Project-wide middleware."""

from __future__ import annotations

from sessiondemo.instance import instance_name


class ServedByMiddleware:
    """Stamp every response with the instance that served it (X-Served-By)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.served_by = instance_name(request)
        response = self.get_response(request)
        response["X-Served-By"] = request.served_by
        return response


# No inline script or style anywhere in the site, so none is allowed: an injected
# <script> or style attribute does nothing.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    """Send the site's Content-Security-Policy (Django 5.2 has none built in)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
