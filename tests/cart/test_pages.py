"""The catalog and cart pages work with plain HTML forms, and say what happened after each action."""

import pytest
from django.test import Client


@pytest.fixture
def browser(db, site_redis):
    return Client()


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def test_the_catalog_shows_every_product_with_an_add_form(browser):
    response = browser.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="add-to-cart"') >= 12
    assert 'id="served-by"' in html


def test_adding_from_the_catalog_shows_a_message_and_the_header_count(browser):
    response = browser.post("/cart/add/TEA-003/", {"quantity": "2", "next": "/"}, follow=True)
    assert "you now have 2 of TEA-003" in messages_of(response)[0]
    assert '<span id="cart-count" class="badge">2</span>' in response.content.decode()


def test_the_cart_page_lists_lines_and_the_total(browser):
    browser.post("/cart/add/TEA-003/", {"quantity": "2"})
    browser.post("/cart/add/ACC-004/", {"quantity": "1"})
    html = browser.get("/cart/").content.decode()
    assert 'data-sku="TEA-003"' in html and 'data-sku="ACC-004"' in html
    assert '<th class="num" id="cart-total">€27.90</th>' in html


def test_updating_and_removing_lines_from_the_cart_page(browser):
    browser.post("/cart/add/TEA-003/", {"quantity": "2"})
    response = browser.post("/cart/set/TEA-003/", {"quantity": "5"}, follow=True)
    assert "Updated the quantity of TEA-003." in messages_of(response)
    assert response.context["cart"]["count"] == 5
    response = browser.post("/cart/remove/TEA-003/", follow=True)
    assert response.context["cart"]["count"] == 0


def test_bad_form_input_becomes_an_error_message_and_keeps_the_cart(browser):
    browser.post("/cart/add/TEA-003/", {"quantity": "2"}, follow=True)
    response = browser.post("/cart/set/TEA-003/", {"quantity": "0"}, follow=True)
    assert "from 1 to 99" in messages_of(response)[0]
    assert response.context["cart"]["count"] == 2
    response = browser.post("/cart/add/NOPE/", {"quantity": "1"}, follow=True)
    assert "no product" in messages_of(response)[0]


def test_emptying_the_cart(browser):
    browser.post("/cart/add/TEA-003/", {"quantity": "2"})
    response = browser.post("/cart/clear/", follow=True)
    assert "Your cart is empty." in messages_of(response)
    assert response.context["cart"]["count"] == 0


def test_an_offsite_next_is_ignored(browser):
    response = browser.post("/cart/add/TEA-003/", {"quantity": "1", "next": "//evil.example/"})
    assert response["Location"] == "/"


def test_cart_actions_are_post_only(browser):
    assert browser.get("/cart/add/TEA-003/").status_code == 405
