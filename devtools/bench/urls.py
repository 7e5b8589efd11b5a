"""A bench-only URLconf: views that touch the session and nothing else, so engines compare fairly.

Served by devtools/bench/wsgi.py under gunicorn, and by the in-process measurements.
The mutating views are GET-or-POST and CSRF-exempt: the load generator is not a browser.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model, login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from sessionkeeper.counters import counters_for

BENCH_USERNAME = "bench-user"


def untouched(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def read(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"theme": request.session.get("theme"), "user": request.user.pk})


@csrf_exempt
def write(request: HttpRequest) -> JsonResponse:
    request.session["theme"] = request.GET.get("theme", "dark")
    request.session["visits"] = request.session.get("visits", 0) + 1
    return JsonResponse({"visits": request.session["visits"]})


@csrf_exempt
def add_to_cart(request: HttpRequest) -> JsonResponse:
    quantity = counters_for(request.session, "cart").add(request.GET.get("sku", "TEA-001"), 1, 1_000_000)
    return JsonResponse({"quantity": quantity})


def cart(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"items": counters_for(request.session, "cart").items()})


@csrf_exempt
def sign_in(request: HttpRequest) -> JsonResponse:
    user = get_user_model().objects.get(username=BENCH_USERNAME)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return JsonResponse({"user": user.pk})


urlpatterns = [
    path("bench/untouched", untouched),
    path("bench/read", read),
    path("bench/write", write),
    path("bench/add", add_to_cart),
    path("bench/cart", cart),
    path("bench/login", sign_in),
]
