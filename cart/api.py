"""The JSON API for scripts, load tools and tests.

It uses the session cookie and Django's CSRF protection (the X-CSRFToken header).
Bad input gets a 400 with {"error": "<sentence>"} and leaves the cart as it was.
A body is checked before it is parsed, and its values before they reach the
database: its size, how deep it nests, how long its numbers are, and that its text
is valid Unicode. The contract is strict: a quantity is a JSON integer, never a
string of digits, a float or a boolean (the HTML forms, which send text, accept digits).

A change (POST, PUT, DELETE) may carry an Idempotency-Key header: the engine applies
a change once per key, so a client that saw a 503 or lost the answer sends the same
request with the same key again, and the change is made at most once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse, UnreadablePostError
from django.views.decorators.csrf import ensure_csrf_cookie

from cart.cart import MAX_QUANTITY, MIN_QUANTITY, Cart, CartError
from cart.models import Product
from sessiondemo.instance import instance_name

# A cart change is a few dozen bytes; nothing the API takes comes near these.
MAX_BODY_BYTES = 16 * 1024
MAX_DEPTH = 4
MAX_NUMBER_CHARACTERS = 24
MAX_SKU_CHARACTERS = 64
# Outside strings, JSON nests with brackets and writes numbers with these characters; a
# string (escapes included) is skipped whole, so nothing inside one counts.
JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]|[-0-9][-+0-9.eE]*', re.DOTALL)
# Visible ASCII, as long as a key any client library makes (a UUID is 36).
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


class BadRequest(ValueError):
    """The request itself is malformed: not JSON, wrong fields."""


def error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def method_not_allowed(request: HttpRequest, allowed: list[str]) -> JsonResponse:
    method = request.method if (request.method or "").isalpha() else shown(request.method)
    response = error(f"{method} is not allowed here; use {' or '.join(allowed)}.", status=405)
    response["Allow"] = ", ".join(allowed)
    return response


def shown(value: Any, limit: int = 20) -> str:
    """A value the client sent, written as JSON and cut short, to name it inside an error sentence."""
    if isinstance(value, str):
        # Cut inside the quotes, so that the sentence's own full stop follows a closing quote.
        quoted = json.dumps(value[:limit])
        return quoted if len(value) <= limit else quoted[:-1] + '\u2026"'
    text = json.dumps(value)
    return text if len(text) <= limit else text[:limit] + "\u2026"


# --- reading a body: checked before it is parsed ----------------------------------------


def read_body(request: HttpRequest) -> bytes:
    """The body, refused by its declared length before it is read."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    try:
        length = int(declared)
    except ValueError:
        raise BadRequest(f"The Content-Length header must be a number of bytes, not {shown(declared)}.") from None
    if length > MAX_BODY_BYTES:
        raise BadRequest(f"The body is {length} bytes long; send at most {MAX_BODY_BYTES}.")
    try:
        body = request.body
    except RequestDataTooBig:
        raise BadRequest(f"The body is too long; send at most {MAX_BODY_BYTES} bytes.") from None
    except (UnreadablePostError, OSError):
        raise BadRequest("The body could not be read to its end; send the request again.") from None
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(f"The body is {len(body)} bytes long; send at most {MAX_BODY_BYTES}.")
    return body


def check_shape(text: str) -> None:
    """Refuse deep nesting and long numbers before the parser meets them (RecursionError, int limits)."""
    depth = 0
    for match in JSON_TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                raise BadRequest(f"The body nests deeper than {MAX_DEPTH} levels; send a flat JSON object.")
        elif token in ("]", "}"):
            depth -= 1
        elif token[0] != '"' and len(token) > MAX_NUMBER_CHARACTERS:
            raise BadRequest(
                f"The body has a number {len(token)} characters long; the longest taken is {MAX_NUMBER_CHARACTERS}."
            )


def _refuse_constant(name: str) -> None:
    raise BadRequest(f"The body has {name}, which JSON does not allow; send numbers as numbers.")


def check_text(value: Any) -> None:
    """Every string in the body is text the database can store: no lone surrogate, no NUL."""
    if isinstance(value, dict):
        for key, item in value.items():
            check_text(key)
            check_text(item)
    elif isinstance(value, list):
        for item in value:
            check_text(item)
    elif isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequest("The body has a \\u escape that is not a character (a lone surrogate).") from None
        if "\x00" in value:
            raise BadRequest("The body has a NUL character (\\u0000) in a string; remove it.")


def read_json(request: HttpRequest, allowed_fields: set[str]) -> dict[str, Any]:
    content_type = request.content_type or ""
    if content_type != "application/json":
        raise BadRequest(
            f"Send the body as JSON with Content-Type: application/json, not {shown(content_type) if content_type else 'none'}."
        )
    try:
        text = read_body(request).decode("utf-8") or "{}"
    except UnicodeDecodeError:
        raise BadRequest("The body is not UTF-8 text; send JSON encoded as UTF-8.") from None
    check_shape(text)
    try:
        body = json.loads(text, parse_constant=_refuse_constant)
    except (json.JSONDecodeError, RecursionError):
        raise BadRequest("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest('The body must be a JSON object, for example {"sku": "TEA-001", "quantity": 1}.')
    check_text(body)
    unknown = sorted(set(body) - allowed_fields)
    if unknown:
        raise BadRequest(
            f"Unknown field {', '.join(shown(name) for name in unknown)}; "
            f"the fields are {', '.join(sorted(allowed_fields))}."
        )
    return body


# --- the fields --------------------------------------------------------------------------


def sku_from(value: Any) -> str:
    """A sku as text the catalog can be asked about; which product it names is the cart's question."""
    if not isinstance(value, str) or not value.strip():
        raise BadRequest('Say which product with its sku, for example "TEA-001".')
    # Not printable covers NUL and lone surrogates, which the database would refuse with a 500.
    if len(value) > MAX_SKU_CHARACTERS or not value.isprintable():
        raise BadRequest(f"There is no product with the sku {shown(value)}.")
    return value


def quantity_from(value: Any) -> int:
    """A JSON integer; the cart checks the range (MIN_QUANTITY to MAX_QUANTITY)."""
    # bool is an int in Python, but true is not a number in JSON.
    if type(value) is not int:
        raise BadRequest(
            f"The quantity must be a whole number from {MIN_QUANTITY} to {MAX_QUANTITY} written as a JSON integer, "
            f"such as 2, not {shown(value)}."
        )
    return value


def operation_id(request: HttpRequest, *change: Any) -> str | None:
    """The Idempotency-Key, bound to the change it came with; None when the client sent none.

    Bound, so that a key sent again with another change (a client's bug) makes that
    change rather than silently answering for the first one.
    """
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise BadRequest("The Idempotency-Key header must be 1 to 255 visible ASCII characters, such as a UUID.")
    return json.dumps([key, request.method, *change])


# --- the endpoints -----------------------------------------------------------------------


def cart_response(request: HttpRequest) -> JsonResponse:
    return JsonResponse(Cart(request.session).as_json())


def refusals_answered(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
    """Bad input (BadRequest) or a change the cart refuses (CartError) answers 400 with its sentence."""

    @wraps(view)
    def answer(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        try:
            return view(request, *args, **kwargs)
        except (BadRequest, CartError) as problem:
            return error(str(problem))

    return answer


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
@refusals_answered
def cart(request: HttpRequest) -> JsonResponse:
    if request.method == "GET":
        return cart_response(request)
    if request.method == "DELETE":
        Cart(request.session).clear(operation_id(request))
        return cart_response(request)
    return method_not_allowed(request, ["GET", "DELETE"])


@refusals_answered
def cart_items(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        return method_not_allowed(request, ["POST"])
    body = read_json(request, {"sku", "quantity"})
    sku, quantity = sku_from(body.get("sku")), quantity_from(body.get("quantity", 1))
    Cart(request.session).add(sku, quantity, operation_id(request, sku, quantity))
    return cart_response(request)


@refusals_answered
def cart_item(request: HttpRequest, sku: str) -> JsonResponse:
    if request.method == "PUT":
        body = read_json(request, {"quantity"})
        if "quantity" not in body:
            raise BadRequest('Say the new quantity, for example {"quantity": 2}.')
        quantity = quantity_from(body["quantity"])
        Cart(request.session).set_quantity(sku_from(sku), quantity, operation_id(request, sku, quantity))
    elif request.method == "DELETE":
        Cart(request.session).remove(sku_from(sku), operation_id(request, sku))
    else:
        return method_not_allowed(request, ["PUT", "DELETE"])
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
