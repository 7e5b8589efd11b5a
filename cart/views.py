"""Pages for people: the catalog and the cart. Each action is a POST that works without JavaScript."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from cart.cart import Cart, CartError, summarize
from cart.models import Product


@require_GET
def catalog(request):
    return render(request, "cart/catalog.html", {"products": Product.objects.all()})


@require_GET
def cart_page(request):
    lines = Cart(request.session).lines()  # one catalog query for the lines and the totals
    return render(request, "cart/cart.html", {"lines": lines, "cart": summarize(lines)})


def _back(request, default: str):
    target = request.POST.get("next", "")
    return redirect(target if target.startswith("/") and not target.startswith("//") else default)


@require_POST
def add(request, sku):
    try:
        held = Cart(request.session).add(sku, request.POST.get("quantity", "1"))
    except CartError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Added to your cart: you now have {held} of {sku}.")
    return _back(request, "cart:catalog")


@require_POST
def set_quantity(request, sku):
    try:
        Cart(request.session).set_quantity(sku, request.POST.get("quantity"))
    except CartError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Updated the quantity of {sku}.")
    return redirect("cart:cart")


@require_POST
def remove(request, sku):
    try:
        Cart(request.session).remove(sku)
    except CartError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Removed {sku} from your cart.")
    return redirect("cart:cart")


@require_POST
def clear(request):
    Cart(request.session).clear()
    messages.success(request, "Your cart is empty.")
    return redirect("cart:cart")
