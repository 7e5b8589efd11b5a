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
