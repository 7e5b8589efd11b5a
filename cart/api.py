"""The JSON API for scripts, load tools and tests.

It uses the session cookie and Django's CSRF protection (the X-CSRFToken header).
Bad input gets a 400 with {"error": "<sentence>"} and leaves the cart as it was.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import ensure_csrf_cookie

from cart.cart import Cart, CartError
from cart.models import Product
from sessiondemo.instance import instance_name


class BadRequest(ValueError):
    """The request itself is malformed: not JSON, wrong fields."""


def error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def method_not_allowed(request: HttpRequest, allowed: list[str]) -> JsonResponse:
    response = error(f"{request.method} is not allowed here; use {' or '.join(allowed)}.", status=405)
    response["Allow"] = ", ".join(allowed)
    return response


def read_json(request: HttpRequest, allowed_fields: set[str]) -> dict[str, Any]:
    content_type = request.content_type or ""
    if content_type != "application/json":
        raise BadRequest(f"Send the body as JSON with Content-Type: application/json, not {content_type or 'none'}.")
    try:
        body = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequest("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest('The body must be a JSON object, for example {"sku": "TEA-001", "quantity": 1}.')
    unknown = sorted(set(body) - allowed_fields)
    if unknown:
        raise BadRequest(
            f"Unknown field {', '.join(map(str, unknown))}; the fields are {', '.join(sorted(allowed_fields))}."
        )
    return body


def cart_response(request: HttpRequest, status: int = 200) -> JsonResponse:
    return JsonResponse(Cart(request.session).as_json(), status=status)


def products(request: HttpRequest) -> JsonResponse:
    if request.method != "GET":
        return method_not_allowed(request, ["GET"])
    return JsonResponse(
        {
            "products": [
                {"sku": p.sku, "name": p.name, "description": p.description, "price": str(p.price)}
                for p in Product.objects.all()
            ]
        }
    )


@ensure_csrf_cookie
def cart(request: HttpRequest) -> JsonResponse:
    if request.method == "GET":
        return cart_response(request)
    if request.method == "DELETE":
        Cart(request.session).clear()
        return cart_response(request)
    return method_not_allowed(request, ["GET", "DELETE"])


def cart_items(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        return method_not_allowed(request, ["POST"])
    try:
        body = read_json(request, {"sku", "quantity"})
        Cart(request.session).add(body.get("sku"), body.get("quantity", 1))
    except (BadRequest, CartError) as problem:
        return error(str(problem))
    return cart_response(request)


def cart_item(request: HttpRequest, sku: str) -> JsonResponse:
    try:
        if request.method == "PUT":
            body = read_json(request, {"quantity"})
            if "quantity" not in body:
                raise BadRequest('Say the new quantity, for example {"quantity": 2}.')
            Cart(request.session).set_quantity(sku, body["quantity"])
        elif request.method == "DELETE":
            Cart(request.session).remove(sku)
        else:
            return method_not_allowed(request, ["PUT", "DELETE"])
    except (BadRequest, CartError) as problem:
        return error(str(problem))
    return cart_response(request)


@ensure_csrf_cookie
def session(request: HttpRequest) -> JsonResponse:
    if request.method != "GET":
        return method_not_allowed(request, ["GET"])
    user = request.user
    return JsonResponse(
        {
            "authenticated": user.is_authenticated,
            "username": user.get_username() if user.is_authenticated else None,
            "instance": instance_name(request),
            "idle_timeout_s": settings.SESSION_IDLE_TIMEOUT,
        }
    )
