"""The shopping cart: sku -> quantity, kept in the session, and with the account once signed in.

Quantities are counters in the session engine, so the engine can change them
atomically on the server: N concurrent "add 1" give exactly +N. A signed-in shopper's
cart is the account's (the engine's USER_COUNTERS): every device shares it, it outlives
logout and expiry, and a guest's cart merges into it at sign-in, a line stopping at
MAX_QUANTITY. Views parse input, call one method here, and report the CartError
sentence when a rule is broken; the cart is left as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cart.models import Product
from sessionkeeper.counters import CounterMap, counters_for
from sessionkeeper.exceptions import CounterLimitError

WHOLE_NUMBER = re.compile(r"-?[0-9]+")
MIN_QUANTITY = 1
MAX_QUANTITY = 99
SESSION_NAME = "cart"


class CartError(ValueError):
    """Input the cart refuses, with a sentence saying what is wrong."""


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int

    @property
    def line_total(self) -> Decimal:
        return self.product.price * self.quantity

    @property
    def described(self) -> str:
        """The line as a sentence names it: "2 of Sencha Asatsuyu"."""
        return f"{self.quantity} of {self.product.name}"

    def as_json(self) -> dict[str, Any]:
        return {
            "sku": self.product.sku,
            "name": self.product.name,
            "quantity": self.quantity,
            "unit_price": str(self.product.price),
            "line_total": str(self.line_total),
        }


def parse_quantity(value: Any, *, what: str = "quantity") -> int:
    """A whole number from 1 to 99, from JSON (int) or a form (digits), else CartError."""
    if isinstance(value, bool) or value is None:
        raise CartError(f"The {what} must be a whole number from {MIN_QUANTITY} to {MAX_QUANTITY}.")
    if isinstance(value, str):
        text = value.strip()
        # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
        if not WHOLE_NUMBER.fullmatch(text) or len(text) > 6:
            raise CartError(
                f"The {what} must be a whole number from {MIN_QUANTITY} to {MAX_QUANTITY}, not {value[:20]!r}."
            )
        value = int(text)
    if not isinstance(value, int):
        raise CartError(f"The {what} must be a whole number from {MIN_QUANTITY} to {MAX_QUANTITY}.")
    if value < MIN_QUANTITY or value > MAX_QUANTITY:
        raise CartError(f"The {what} must be from {MIN_QUANTITY} to {MAX_QUANTITY}, not {value}.")
    return value


def find_product(sku: Any) -> Product:
    if not isinstance(sku, str) or not sku.strip():
        raise CartError('Say which product with its sku, for example "TEA-001".')
    try:
        return Product.objects.get(sku=sku.strip())
    except Product.DoesNotExist:
        raise CartError(f"There is no product with the sku {sku[:40]!r}.") from None


class Cart:
    """The cart of one session."""

    def __init__(self, session) -> None:  # type: ignore[no-untyped-def]
        self.session = session

    @property
    def _counters(self) -> CounterMap:
        return counters_for(self.session, SESSION_NAME)

    def quantities(self) -> dict[str, int]:
        return {sku: quantity for sku, quantity in self._counters.items().items() if quantity > 0}

    def add(self, sku: Any, quantity: Any = 1, operation_id: str | None = None) -> CartLine:
        """Add ``quantity`` of a product; return its line as the cart now holds it.

        An ``operation_id`` (the API's Idempotency-Key) seen before changes nothing.
        """
        product = find_product(sku)
        amount = parse_quantity(quantity)
        try:
            return CartLine(product, self._counters.add(product.sku, amount, MAX_QUANTITY, operation_id))
        except CounterLimitError:
            held = self.quantities().get(product.sku, 0)
            raise CartError(
                f"Your cart holds {held} of {product.name}; adding {amount} would pass the limit of {MAX_QUANTITY}."
            ) from None

    def change(self, sku: Any, step: Any) -> CartLine:
        """Add or take away one (a +/- stepper), atomically; a line taken down to 0 leaves the cart."""
        product = find_product(sku)
        if step not in (-1, 1, "-1", "1", "+1"):
            raise CartError("A step changes the quantity by 1 or -1.")
        try:
            return CartLine(product, self._counters.add(product.sku, int(step), MAX_QUANTITY))
        except CounterLimitError:
            if int(step) > 0:
                raise CartError(f"Your cart already holds the most of {product.name} it can: {MAX_QUANTITY}.") from None
            raise CartError(f"There is no {product.name} in your cart to take away.") from None

    def set_quantity(self, sku: Any, quantity: Any, operation_id: str | None = None) -> CartLine:
        product = find_product(sku)
        quantity = parse_quantity(quantity)
        self._counters.set(product.sku, quantity, operation_id)
        return CartLine(product, quantity)

    def remove(self, sku: Any, operation_id: str | None = None) -> CartLine:
        """Take a product's line out of the cart; return it as the cart now holds it (none)."""
        product = find_product(sku)
        self._counters.remove(product.sku, operation_id)
        return CartLine(product, 0)

    def clear(self, operation_id: str | None = None) -> None:
        self._counters.clear(operation_id)

    def lines(self) -> list[CartLine]:
        quantities = self.quantities()
        products = Product.objects.filter(sku__in=quantities)
        # A product taken out of the catalog drops out of the cart's lines.
        return [CartLine(product, quantities[product.sku]) for product in products]

    def count(self) -> int:
        return sum(self.quantities().values())

    def as_json(self) -> dict[str, Any]:
        return summarize(self.lines())


def merged_sentence(guest_lines: list[CartLine]) -> str:
    """What signing in says about the guest cart it merged into the account's."""
    items = [line.described for line in guest_lines]
    listed = items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
    return f"Your cart came with you into your account: {listed} (a line holds at most {MAX_QUANTITY})."


def summarize(lines: list[CartLine]) -> dict[str, Any]:
    """The cart as the API shows it: its lines, how many items, and the total (as a string)."""
    return {
        "items": [line.as_json() for line in lines],
        "count": sum(line.quantity for line in lines),
        "total": str(sum((line.line_total for line in lines), Decimal("0.00"))),
    }
