"""The cart belongs to the account, in headless Chromium through the cluster (issue 14, item 1): a guest's
cart signs up with the shopper, outlives a logout, is there on a second browser, and adds made on two
browsers at once all land."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.devtools.scaleout.test_browser import add_to_cart, cart_count, log_in, log_out, sign_up
from tests.fixtures.site_client import new_username

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADDS_PER_BROWSER = 10

# Start the adds and keep their promise on the window, so that both browsers' requests are in flight at once.
START_ADDS = """
(count) => {
  const token = document.cookie.split("; ").find((c) => c.startsWith("csrftoken=")).split("=")[1];
  const add = () => fetch("/api/cart/items", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token },
    body: JSON.stringify({ sku: "TEA-003", quantity: 1 }),
  }).then((response) => response.status);
  window.__adds = Promise.all(Array.from({ length: count }, add));
}
"""


def second_browser(browser, cluster):
    context = browser.new_context(base_url=cluster.url, ignore_https_errors=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.served_by = []
    return context, page


def test_a_guest_cart_signs_up_outlives_logout_reaches_a_second_browser_and_takes_adds_from_both(
    page, browser, cluster
):
    username = new_username("account-cart")
    page.goto("/")
    add_to_cart(page, 0)
    add_to_cart(page, 1)
    expect(page.locator("#cart-count")).to_have_text("2")
    sign_up(page, username)
    assert cart_count(page) == 2
    log_out(page)
    assert cart_count(page) == 0  # the next person at this computer sees an empty cart

    context, other = second_browser(browser, cluster)
    try:
        log_in(other, username)
        assert cart_count(other) == 2
        other.goto("/cart/")
        expect(other.locator("tr.cart-line[data-sku]")).to_have_count(2)

        log_in(page, username)
        for tab in (page, other):
            tab.goto("/cart/")
        for tab in (page, other):
            tab.evaluate(START_ADDS, ADDS_PER_BROWSER)
        for tab in (page, other):
            assert tab.evaluate("() => window.__adds") == [200] * ADDS_PER_BROWSER
        for tab in (page, other):
            tab.goto("/cart/")
            assert cart_count(tab) == 2 + 2 * ADDS_PER_BROWSER
        assert len(set(page.served_by + other.served_by)) >= 2, "Every page came from one instance."
    finally:
        context.close()
