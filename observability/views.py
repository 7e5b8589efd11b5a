"""/metrics (Prometheus text, for a scraper with the token or a staff member), /ops/ and its data."""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST

from observability import metrics, ops
from sessiondemo.client_address import client_ip
from sessiondemo.instance import instance_name
from sessiondemo.redis_client import REDIS_FAILURES, describe_redis_error

security_logger = logging.getLogger("django.security.metrics")


def bearer_token(request: HttpRequest) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def token_matches(token: str) -> bool:
    # Constant time, so the response time says nothing about how much of the token was right.
    return bool(settings.METRICS_TOKEN) and hmac.compare_digest(token.encode(), settings.METRICS_TOKEN.encode())


def is_staff(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.is_staff


def metrics_refusal(request: HttpRequest) -> HttpResponse | None:
    """Why this request may not read /metrics, as a response; None when it may."""
    token = bearer_token(request)
    if token is not None:
        if token_matches(token):
            return None
        security_logger.warning("Refused /metrics to a wrong bearer token from %s.", client_ip(request))
        return HttpResponse("The bearer token is not the metrics token.\n", status=403, content_type="text/plain")
    if not request.user.is_authenticated:
        response = HttpResponse(
            "Send Authorization: Bearer <METRICS_TOKEN>, or sign in as staff.\n", status=401, content_type="text/plain"
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not is_staff(request):
        return HttpResponse("Only staff may read /metrics.\n", status=403, content_type="text/plain")
    return None


@never_cache
def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    refusal = metrics_refusal(request)
    if refusal is not None:
        return refusal
    if request.GET.get("scope") == "site":
        return site_metrics()
    return HttpResponse(metrics.prometheus_text(), content_type=CONTENT_TYPE_LATEST)


def site_metrics() -> HttpResponse:
    try:
        site = ops.site_view()
    except REDIS_FAILURES as error:
        problem = describe_redis_error(error)
        ops.logger.warning("Reading the site's figures from Redis failed. %s", problem)
        return HttpResponse(
            f"The site's figures are missing because Redis did not answer. {problem}\n",
            status=503,
            content_type="text/plain",
        )
    text = metrics.site_prometheus_text(site)
    return HttpResponse(text, content_type=CONTENT_TYPE_LATEST)


@never_cache
def ops_page(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not is_staff(request):
        raise PermissionDenied("Only staff may see the operations page.")
    return render(request, "observability/ops.html", {"interval": settings.OPS_PUBLISH_INTERVAL})


@never_cache
def ops_data(request: HttpRequest) -> JsonResponse:
    if not request.user.is_authenticated or not is_staff(request):
        return JsonResponse({"error": "Only staff may read the operations figures."}, status=403)
    this_instance = instance_name(request)
    try:
        data = ops.ops_data(this_instance)
    except REDIS_FAILURES as error:
        problem = describe_redis_error(error)
        ops.logger.warning("Reading the ops figures from Redis failed. %s", problem)
        return JsonResponse({"error": f"The figures are missing because Redis did not answer. {problem}"}, status=503)
    return JsonResponse(data)
