"""Carting in headless Chromium through the cluster: with JavaScript, without a page reload;
without it, the same forms as before; and a stale form lands on the site's own 403 page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.devtools.scaleout.browsing import DESKTOP, PHONE, browser_context, kept_when_failing
from tests.fixtures.site_client import PASSWORD, new_username

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Set on the window once; a reload (a form submitted the old way) loses it.
MARK = "() => { window.__sameDocument = true; }"
SAME_DOCUMENT = "() => window.__sameDocument === true"


def open_page(browser, cluster, viewport=DESKTOP, **options):
    context = browser_context(browser, cluster, viewport, **options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: "Content Security Policy" in message.text and errors.append(message.text))
    page.script_errors = errors
    return context, page


def ready(page, path: str) -> None:
    page.goto(path)
    expect(page.locator("html")).to_have_attribute("data-cart-ready", "true")
    page.evaluate(MARK)


def api_cart(page) -> dict:
    return page.context.request.get("/api/cart").json()


def test_adding_from_far_down_the_catalog_keeps_the_page_and_its_scroll_and_names_the_product(browser, cluster):
    context, page = open_page(browser, cluster, PHONE)
    try:
        with kept_when_failing(page, "add-without-reload"):
            ready(page, "/")
            form = page.locator("form.add-to-cart[data-sku=TEA-010]")
            form.scroll_into_view_if_needed()
            assert page.evaluate("() => window.scrollY") > 1000, (
                "The last products should be far down a phone's catalog."
            )
            where = form.bounding_box()["y"]
            form.locator(".step-up").click()  # 2
            form.locator("button[type=submit]").click()
            expect(page.locator("#cart-count")).to_have_text("2")
            message = page.locator("#messages .message.success")
            expect(message).to_have_text("Added to your cart: you now have 2 of Earl Grey Supreme.")
            assert page.evaluate(SAME_DOCUMENT), "The page was reloaded."
            # Where the product is on the screen, not scrollY: the browser's scroll anchoring moves
            # scrollY to keep the product in place while the message appears above it.
            assert abs(form.bounding_box()["y"] - where) <= 2, "The product moved on the screen."
            box = message.bounding_box()
            assert box and 0 <= box["y"] < PHONE["height"], "The message is out of sight."
            assert api_cart(page)["count"] == 2
            assert page.script_errors == []
    finally:
        context.close()


def test_the_cart_page_steps_sets_and_removes_lines_in_place(browser, cluster):
    context, page = open_page(browser, cluster)
    try:
        with kept_when_failing(page, "cart-in-place"):
            ready(page, "/")
            for count, sku in enumerate(("ACC-003", "TEA-005"), start=1):
                page.locator(f"form.add-to-cart[data-sku={sku}] button[type=submit]").click()
                expect(page.locator("#cart-count")).to_have_text(str(count))
            ready(page, "/cart/")
            whisk = page.locator("tr.cart-line[data-sku=ACC-003]")
            quantity = whisk.locator("input[name=quantity]")
            expect(whisk.locator(".update")).to_be_hidden()  # typing saves by itself with JavaScript

            for _ in range(4):  # quick clicks: every one lands
                whisk.locator(".step-up").click()
            expect(page.locator("#messages")).to_have_text("Your cart now holds 5 of Bamboo Whisk.")
            expect(quantity).to_have_value("5")
            expect(whisk.locator(".line-total")).to_have_text("€82.50")
            expect(page.locator("#cart-count")).to_have_text("6")
            expect(page.locator("#cart-items")).to_have_text("6 items")

            whisk.locator(".step-down").click()
            expect(page.locator("#messages")).to_have_text("Your cart now holds 4 of Bamboo Whisk.")

            quantity.fill("9")
            quantity.press("Enter")
            expect(page.locator("#messages")).to_have_text("Your cart now holds 9 of Bamboo Whisk.")
            expect(page.locator("#cart-total")).to_have_text("€162.50")  # 9 × 16.50 + 14.00

            page.locator("tr.cart-line[data-sku=TEA-005] .remove-form button").click()
            expect(page.locator("#messages")).to_have_text("Removed Tieguanyin Oolong from your cart.")
            expect(page.locator("tr.cart-line")).to_have_count(1)

            assert page.evaluate(SAME_DOCUMENT), "A cart action reloaded the page."
            assert {item["sku"]: item["quantity"] for item in api_cart(page)["items"]} == {"ACC-003": 9}
            assert page.script_errors == []
    finally:
        context.close()


def test_emptying_the_cart_asks_first_in_a_dialog(browser, cluster):
    context, page = open_page(browser, cluster)
    try:
        with kept_when_failing(page, "empty-dialog"):
            ready(page, "/products/ACC-001/")
            page.locator("form.add-to-cart button[type=submit]").click()
            expect(page.locator("#in-cart")).to_have_text("Your cart holds 1 of these.")
            ready(page, "/cart/")
            dialog = page.locator("#confirm-empty-dialog")
            page.click("#empty-cart")
            expect(dialog).to_be_visible()
            dialog.get_by_role("button", name="Keep my cart").click()
            expect(dialog).to_be_hidden()
            assert api_cart(page)["count"] == 1, "Keeping the cart emptied it."

            page.click("#empty-cart")
            dialog.get_by_role("button", name="Empty the cart").click()
            expect(page.locator("#cart-empty")).to_be_visible()
            expect(page.locator("#messages")).to_have_text("Your cart is empty.")
            expect(page.locator("#cart-count")).to_have_text("0")
            assert api_cart(page)["count"] == 0
            assert page.evaluate(SAME_DOCUMENT)
    finally:
        context.close()


def test_without_javascript_every_cart_action_is_a_form_that_still_works(browser, cluster):
    context, page = open_page(browser, cluster, PHONE, java_script_enabled=False)
    try:
        with kept_when_failing(page, "no-javascript"):
            page.goto("/products/TEA-004/")
            page.fill("input[name=quantity]", "2")
            with page.expect_navigation():
                page.click("form.add-to-cart button[type=submit]")
            assert page.url.endswith("/products/TEA-004/")
            expect(page.locator("#messages")).to_have_text("Added to your cart: you now have 2 of Jasmine Pearls.")

            page.goto("/cart/")
            with page.expect_navigation():
                page.click("tr.cart-line[data-sku=TEA-004] .step-up")
            expect(page.locator("#messages")).to_have_text("Your cart now holds 3 of Jasmine Pearls.")
            page.fill("tr.cart-line[data-sku=TEA-004] input[name=quantity]", "4")
            with page.expect_navigation():
                page.click("tr.cart-line[data-sku=TEA-004] .update")
            expect(page.locator("#messages")).to_have_text("Your cart now holds 4 of Jasmine Pearls.")

            with page.expect_navigation():
                page.click("#empty-cart")
            assert page.url.endswith("/cart/clear/")
            expect(page.locator("h1")).to_have_text("Empty your cart?")
            with page.expect_navigation():
                page.click("#confirm-empty")
            expect(page.locator("#messages")).to_have_text("Your cart is empty.")
            expect(page.locator("#cart-count")).to_have_text("0")
    finally:
        context.close()


def test_a_form_gone_stale_after_a_login_in_another_tab_shows_the_sites_403_with_a_way_back(
    browser, cluster, make_shopper
):
    username = new_username("stale-form")
    make_shopper().sign_up(username)
    # Without JavaScript, as the shopper met it: the form posts its own (old) token.
    context, tab_a = open_page(browser, cluster, java_script_enabled=False)
    try:
        with kept_when_failing(tab_a, "stale-form"):
            tab_a.goto("/")
            tab_b = context.new_page()
            tab_b.goto("/accounts/login/")
            tab_b.fill("input[name=username]", username)
            tab_b.fill("input[name=password]", PASSWORD)
            tab_b.click("main button[type=submit]")
            expect(tab_b.locator("#user-name")).to_have_text(username)

            with tab_a.expect_navigation() as navigation:
                tab_a.click("form.add-to-cart[data-sku=TEA-001] button[type=submit]")
            assert navigation.value.status == 403
            expect(tab_a.locator("h1")).to_have_text("That form had gone stale")
            expect(tab_a.locator(".site-header .brand")).to_be_visible()
            back = tab_a.get_by_role("link", name="Go back")
            expect(back).to_have_attribute("href", "/")
            back.click()
            expect(tab_a.locator("h1")).to_have_text("Catalog")
            expect(tab_a.locator("#user-name")).to_have_text(username)  # reloaded: the login shows
            with tab_a.expect_navigation():
                tab_a.click("form.add-to-cart[data-sku=TEA-001] button[type=submit]")
            expect(tab_a.locator("#messages")).to_have_text(re.compile("you now have 1 of Assam Breakfast"))
    finally:
        context.close()


def test_with_javascript_a_tab_opened_before_a_login_still_adds(browser, cluster, make_shopper):
    """The script sends the csrftoken cookie's current value, which a login elsewhere has renewed."""
    username = new_username("fresh-token")
    make_shopper().sign_up(username)
    context, tab_a = open_page(browser, cluster)
    try:
        with kept_when_failing(tab_a, "fresh-token"):
            ready(tab_a, "/")
            tab_b = context.new_page()
            tab_b.goto("/accounts/login/")
            tab_b.fill("input[name=username]", username)
            tab_b.fill("input[name=password]", PASSWORD)
            tab_b.click("main button[type=submit]")
            expect(tab_b.locator("#user-name")).to_have_text(username)
            tab_a.click("form.add-to-cart[data-sku=TEA-008] button[type=submit]")
            expect(tab_a.locator("#messages")).to_have_text("Added to your cart: you now have 1 of Peppermint Leaves.")
            assert tab_a.evaluate(SAME_DOCUMENT)
    finally:
        context.close()
