"""The catalog, product and cart pages work with plain HTML forms, and say what happened after
each action, naming the product."""

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from cart.models import Product


@pytest.fixture
def browser(db, site_redis):
    return Client()


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def add(browser, sku: str, quantity: int) -> None:
    """Put something in the cart, reading the message it leaves so the next action's stands alone."""
    assert browser.post(f"/cart/add/{sku}/", {"quantity": str(quantity)}, follow=True).status_code == 200


def test_the_catalog_shows_every_product_with_an_add_form_a_picture_and_a_link_to_its_page(browser):
    response = browser.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    products = Product.objects.count()
    assert products >= 12
    assert html.count('class="add-to-cart"') == products
    assert html.count('href="/products/') >= products
    assert "/static/cart/products/tea-001.svg" in html
    assert 'id="served-by"' in html
    assert 'src="/static/cart/cart.js"' in html


def test_adding_from_the_catalog_names_the_product_and_updates_the_header_count(browser):
    response = browser.post("/cart/add/TEA-003/", {"quantity": "2", "next": "/"}, follow=True)
    assert messages_of(response) == ["Added to your cart: you now have 2 of Sencha Asatsuyu."]
    assert '<span id="cart-count" class="badge">2</span>' in response.content.decode()


def test_the_cart_page_lists_lines_with_steppers_and_the_total(browser):
    add(browser, "TEA-003", 2)
    add(browser, "ACC-004", 1)
    html = browser.get("/cart/").content.decode()
    assert 'data-sku="TEA-003"' in html and 'data-sku="ACC-004"' in html
    assert 'data-name="Sencha Asatsuyu"' in html
    assert '<th class="num" id="cart-total">€27.90</th>' in html
    assert html.count('class="step step-down"') == 2 and html.count('class="step step-up"') == 2
    # ACC-004 holds 1: its minus is disabled (Remove is the way to take it out); TEA-003's is not.
    assert 'aria-label="One fewer Tea Tin" disabled' in html
    assert 'aria-label="One fewer Sencha Asatsuyu">' in html


def test_setting_a_quantity_and_removing_a_line_name_the_product(browser):
    add(browser, "TEA-003", 2)
    response = browser.post("/cart/set/TEA-003/", {"quantity": "5"}, follow=True)
    assert messages_of(response) == ["Your cart now holds 5 of Sencha Asatsuyu."]
    assert response.context["cart"]["count"] == 5
    response = browser.post("/cart/remove/TEA-003/", follow=True)
    assert messages_of(response) == ["Removed Sencha Asatsuyu from your cart."]
    assert response.context["cart"]["count"] == 0


def test_the_steppers_add_and_take_away_one_without_javascript(browser):
    add(browser, "TEA-001", 2)
    response = browser.post("/cart/step/TEA-001/", {"step": "1"}, follow=True)
    assert messages_of(response) == ["Your cart now holds 3 of Assam Breakfast."]
    response = browser.post("/cart/step/TEA-001/", {"step": "-1"}, follow=True)
    assert messages_of(response) == ["Your cart now holds 2 of Assam Breakfast."]
    assert response.context["cart"]["count"] == 2


def test_a_stepper_taking_the_last_one_away_removes_the_line_and_says_so(browser):
    add(browser, "TEA-001", 1)
    response = browser.post("/cart/step/TEA-001/", {"step": "-1"}, follow=True)
    assert messages_of(response) == ["Removed Assam Breakfast from your cart."]
    assert response.context["cart"]["count"] == 0


def test_a_step_other_than_one_is_refused_and_the_cart_is_kept(browser):
    add(browser, "TEA-001", 2)
    response = browser.post("/cart/step/TEA-001/", {"step": "5"}, follow=True)
    assert messages_of(response) == ["A step changes the quantity by 1 or -1."]
    assert response.context["cart"]["count"] == 2


def test_passing_the_line_limit_names_the_product_not_its_sku(browser):
    add(browser, "ACC-002", 99)
    response = browser.post("/cart/add/ACC-002/", {"quantity": "1", "next": "/cart/"}, follow=True)
    [message] = messages_of(response)
    assert "Kyusu" in message and "ACC-002" not in message and "99" in message
    response = browser.post("/cart/step/ACC-002/", {"step": "1"}, follow=True)
    assert messages_of(response) == ["Your cart already holds the most of Kyusu it can: 99."]


def test_bad_form_input_becomes_an_error_message_and_keeps_the_cart(browser):
    browser.post("/cart/add/TEA-003/", {"quantity": "2"}, follow=True)
    response = browser.post("/cart/set/TEA-003/", {"quantity": "0"}, follow=True)
    assert "from 1 to 99" in messages_of(response)[0]
    assert response.context["cart"]["count"] == 2
    response = browser.post("/cart/add/NOPE/", {"quantity": "1"}, follow=True)
    assert "no product" in messages_of(response)[0]


def test_emptying_the_cart_asks_first_without_javascript(browser):
    add(browser, "TEA-003", 2)
    cart_page = browser.get("/cart/").content.decode()
    assert 'id="empty-cart" href="/cart/clear/"' in cart_page  # a link to the question, not a button that empties
    question = browser.get("/cart/clear/")
    assert question.status_code == 200
    html = question.content.decode()
    assert "Empty your cart?" in html and "all 2 items" in html and 'href="/cart/"' in html
    assert browser.get("/cart/").context["cart"]["count"] == 2, "Asking emptied the cart."
    response = browser.post("/cart/clear/", follow=True)
    assert messages_of(response) == ["Your cart is empty."]
    assert response.context["cart"]["count"] == 0


def test_the_product_page_shows_the_long_description_the_picture_and_what_the_cart_holds(browser):
    add(browser, "TEA-009", 3)
    response = browser.get("/products/TEA-009/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Matcha Ceremonial</h1>" in html
    assert "chasen" in html  # from the long description
    assert html.count("<p>") >= 2  # paragraphs, not one block
    assert 'src="/static/cart/products/tea-009.svg"' in html
    assert "Your cart holds 3 of these." in html
    assert 'name="next" value="/products/TEA-009/"' in html


def test_adding_from_the_product_page_comes_back_to_it(browser):
    response = browser.post("/cart/add/ACC-001/", {"quantity": "1", "next": "/products/ACC-001/"})
    assert response["Location"] == "/products/ACC-001/"


def test_an_unknown_product_is_the_sites_404_page(browser):
    response = browser.get("/products/NOPE-404/")
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.content.decode()


@pytest.mark.django_db
def test_every_product_in_the_catalog_has_its_own_illustration_and_a_long_description():
    for product in Product.objects.all():
        assert product.illustration == f"cart/products/{product.sku.lower()}.svg", product.sku
        svg = Path(finders.find(product.illustration)).read_text()
        assert svg.startswith("<svg") and "<script" not in svg and "href=" not in svg  # no script, nothing external
        assert len(product.long_description) > len(product.description), product.sku


@pytest.mark.django_db
def test_a_product_without_a_drawing_gets_the_generic_one():
    product = Product(sku="NEW-001", name="Something new", price="1.00")
    assert product.illustration == "cart/products/default.svg"
    assert finders.find(product.illustration)


def test_the_favicon_is_an_svg_of_our_own(browser):
    html = browser.get("/").content.decode()
    assert '<link rel="icon" href="/static/sessiondemo/favicon.svg" type="image/svg+xml">' in html
    answer = browser.get("/favicon.ico")
    assert answer.status_code == 302 and answer["Location"] == "/static/sessiondemo/favicon.svg"
    assert Path(finders.find("sessiondemo/favicon.svg")).read_text().startswith("<svg")


def test_an_offsite_next_is_ignored(browser):
    response = browser.post("/cart/add/TEA-003/", {"quantity": "1", "next": "//evil.example/"})
    assert response["Location"] == "/"


def test_cart_actions_are_post_only(browser):
    assert browser.get("/cart/add/TEA-003/").status_code == 405
    assert browser.get("/cart/step/TEA-003/").status_code == 405
