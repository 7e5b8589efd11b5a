"""A test-only URLconf: tiny views that read, write, count and log in through the engine's middleware."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model, login, logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from sessionkeeper.counters import counters_for


def rightmost_forwarded(request: HttpRequest) -> str:
    """A CLIENT_ADDRESS for one trusted proxy: the address it appended to X-Forwarded-For."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return forwarded.split(",")[-1].strip() if forwarded else request.META.get("REMOTE_ADDR", "")


def instance_name(request: HttpRequest) -> str:
    return "web-7"


def untouched(request: HttpRequest) -> HttpResponse:
    return HttpResponse("never looked at the session")


def read(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"theme": request.session.get("theme"), "user": request.user.pk})


def write(request: HttpRequest) -> JsonResponse:
    request.session["theme"] = request.GET.get("theme", "dark")
    return JsonResponse({"theme": request.session["theme"]})


def add_to_cart(request: HttpRequest) -> JsonResponse:
    quantity = counters_for(request.session, "cart").add(request.GET.get("sku", "tea"), 1, 1_000_000)
    return JsonResponse({"quantity": quantity})


def add_and_note(request: HttpRequest) -> JsonResponse:
    """A cart change and a note in one request: refused for size, neither may stay."""
    counters_for(request.session, "cart").add(request.GET.get("sku", "tea"), 5, 99)
    request.session["note"] = json.loads(request.body or b'""')
    return JsonResponse({"noted": True})


def cart(request: HttpRequest) -> JsonResponse:
    return JsonResponse(counters_for(request.session, "cart").items())


def sign_in(request: HttpRequest) -> JsonResponse:
    user, _ = get_user_model().objects.get_or_create(username=request.GET.get("username", "ada"))
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return JsonResponse({"user": user.pk})


def sign_out(request: HttpRequest) -> JsonResponse:
    logout(request)
    return JsonResponse({"user": None})


def oversized(request: HttpRequest) -> JsonResponse:
    request.session["blob"] = json.loads(request.body or b'""')
    return JsonResponse({"stored": True})


urlpatterns = [
    path("untouched", untouched),
    path("api/session", read),
    path("api/session/write", write),
    path("api/cart/add", add_to_cart),
    path("api/cart/add-and-note", add_and_note),
    path("api/cart", cart),
    path("login", sign_in),
    path("logout", sign_out),
    path("api/oversized", oversized),
]
