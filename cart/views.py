"""Pages for people: the catalog, a page per product, and the cart.

Each action is a POST form that works without JavaScript; cart.js, where it runs, sends the
same actions to the JSON API instead and updates the page in place. Views parse the input,
call one Cart method and say what happened, naming the product.
"""

from contextlib import contextmanager

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cart.cart import Cart, CartError, CartLine, summarize
from cart.models import Product


@require_GET
def catalog(request):
    return render(request, "cart/catalog.html", {"products": Product.objects.all()})


@require_GET
def product_page(request, sku):
    product = get_object_or_404(Product, sku=sku)
    in_cart = Cart(request.session).quantities().get(product.sku, 0)
    return render(request, "cart/product.html", {"product": product, "in_cart": in_cart})


@require_GET
def cart_page(request):
    lines = Cart(request.session).lines()  # one catalog query for the lines and the totals
    return render(request, "cart/cart.html", {"lines": lines, "cart": summarize(lines)})


def _back(request, default: str):
    target = request.POST.get("next", "")
    return redirect(target if target.startswith("/") and not target.startswith("//") else default)


@contextmanager
def _refusal_said(request):
    """A rule the change breaks becomes the page's error message; the cart is left as it was."""
    try:
        yield
    except CartError as error:
        messages.error(request, str(error))


def _say_held(request, line: CartLine) -> None:
    """Say what the cart now holds of the line's product, or that the product left it."""
    if line.quantity:
        messages.success(request, f"Your cart now holds {line.described}.")
    else:
        messages.success(request, f"Removed {line.product.name} from your cart.")


@require_POST
def add(request, sku):
    with _refusal_said(request):
        line = Cart(request.session).add(sku, request.POST.get("quantity", "1"))
        messages.success(request, f"Added to your cart: you now have {line.described}.")
    return _back(request, "cart:catalog")


@require_POST
def step(request, sku):
    with _refusal_said(request):
        _say_held(request, Cart(request.session).change(sku, request.POST.get("step")))
    return redirect("cart:cart")


@require_POST
def set_quantity(request, sku):
    with _refusal_said(request):
        _say_held(request, Cart(request.session).set_quantity(sku, request.POST.get("quantity")))
    return redirect("cart:cart")


@require_POST
def remove(request, sku):
    with _refusal_said(request):
        _say_held(request, Cart(request.session).remove(sku))
    return redirect("cart:cart")


@require_http_methods(["GET", "POST"])
def clear(request):
    """GET asks first (the confirmation a page without JavaScript gets); POST empties the cart."""
    if request.method == "GET":
        return render(request, "cart/clear.html", {"cart": Cart(request.session).as_json()})
    Cart(request.session).clear()
    messages.success(request, "Your cart is empty.")
    return redirect("cart:cart")
