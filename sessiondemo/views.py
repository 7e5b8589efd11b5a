from django.http import JsonResponse
from django.views.csrf import csrf_failure as django_csrf_failure

from sessiondemo.unavailable import wants_json


def csrf_failure(request, reason=""):
    """The JSON API gets a JSON 403 saying how to pass the token; pages get Django's page."""
    if wants_json(request):
        return JsonResponse(
            {"error": f"CSRF check failed ({reason}). Send the csrftoken cookie's value in the X-CSRFToken header."},
            status=403,
        )
    return django_csrf_failure(request, reason=reason)
