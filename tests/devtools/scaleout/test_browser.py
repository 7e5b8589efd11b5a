"""A shopper in headless Chromium, over https through nginx, while the instances take turns answering."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.fixtures.site_client import PASSWORD, new_username

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def sign_up(page, username: str) -> None:
    page.goto("/accounts/signup/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("main button[type=submit]")
    expect(page.locator("#user-name")).to_have_text(username)


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    expect(page.locator("#user-name")).to_have_text(username)


def log_out(page) -> None:
    page.click("#logout-button")
    expect(page.locator("#user-name")).to_have_count(0)


def add_to_cart(page, product_index: int) -> None:
    """Click "Add to cart" on the catalog's product number ``product_index`` (wrapping around).

    cart.js sends it to the JSON API without leaving the page; the instance that answered is
    noted beside those that served the documents."""
    forms = page.locator("form.add-to-cart")
    form = forms.nth(product_index % forms.count())
    with page.expect_response(lambda answer: answer.url.endswith("/api/cart/items")) as added:
        form.locator("button[type=submit]").click()
    assert added.value.status == 200, added.value.text()
    page.served_by.append(added.value.headers["x-served-by"])


def cart_count(page) -> int:
    return int(page.locator("#cart-count").inner_text().strip())


def test_a_shopper_signs_up_shops_on_several_instances_logs_out_and_back_in(page, cluster):
    username = new_username("browser")
    sign_up(page, username)

    page.goto("/")
    clicks = 9
    for click in range(clicks):
        add_to_cart(page, click)
        expect(page.locator("#cart-count")).to_have_text(str(click + 1))
    assert len(set(page.served_by)) >= 2, f"Every page came from one instance: {page.served_by}"
    assert set(page.served_by) <= set(cluster.instance_names)

    page.goto("/cart/")
    lines = page.locator("tr.cart-line[data-sku]")
    products = len(page.context.request.get("/api/products").json()["products"])
    expect(lines).to_have_count(min(clicks, products))
    expect(page.locator("#cart-total")).not_to_have_text("€0.00")
    assert cart_count(page) == clicks

    log_out(page)
    log_in(page, username)
    # The footer names an instance of this cluster, whichever answered.
    expect(page.locator("#served-by")).to_have_text(re.compile("|".join(cluster.instance_names)))


def test_an_anonymous_cart_survives_login(page, make_shopper):
    username = new_username("browser-returning")
    make_shopper().sign_up(username)  # the account exists; this browser has never logged in

    page.goto("/")
    add_to_cart(page, 0)
    add_to_cart(page, 1)
    add_to_cart(page, 1)
    expect(page.locator("#cart-count")).to_have_text("3")
    page.goto("/cart/")
    skus_before = sorted(page.locator("tr.cart-line").evaluate_all("rows => rows.map(r => r.dataset.sku)"))

    log_in(page, username)
    assert cart_count(page) == 3
    page.goto("/cart/")
    skus_after = sorted(page.locator("tr.cart-line").evaluate_all("rows => rows.map(r => r.dataset.sku)"))
    assert skus_after == skus_before
    assert len(set(page.served_by)) >= 2, f"Every page came from one instance: {page.served_by}"
