from cart.cart import Cart


def cart_count(request):
    """The header's cart count; lazy, so pages that never show it never load the session."""
    session = getattr(request, "session", None)
    if session is None:
        return {}
    return {"cart_count": lambda: Cart(session).count()}
