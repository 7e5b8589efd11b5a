"""The cart's JSON API: every operation, and every kind of bad input leaves the cart as it was."""

import json

import pytest


def cart_of(api):
    response = api.get("/api/cart")
    assert response.status_code == 200
    return response.json()


def test_products_lists_the_whole_catalog_with_prices_as_strings(api):
    products = api.get("/api/products").json()["products"]
    assert len(products) >= 12
    assert set(products[0]) == {"sku", "name", "description", "price"}
    assert all(isinstance(product["price"], str) for product in products)


def test_an_empty_cart_has_no_items_and_a_zero_total(api):
    assert cart_of(api) == {"items": [], "count": 0, "total": "0.00"}


def test_adding_increments_and_the_cart_reports_lines_and_totals(api):
    assert api.send("POST", "/api/cart/items", {"sku": "TEA-001"}).status_code == 200
    response = api.send("POST", "/api/cart/items", {"sku": "TEA-001", "quantity": 2})
    assert response.status_code == 200
    api.send("POST", "/api/cart/items", {"sku": "ACC-001", "quantity": 1})
    cart = cart_of(api)
    lines = {item["sku"]: item for item in cart["items"]}
    assert lines["TEA-001"] == {
        "sku": "TEA-001",
        "name": "Assam Breakfast",
        "quantity": 3,
        "unit_price": "7.50",
        "line_total": "22.50",
    }
    assert cart["count"] == 4
    assert cart["total"] == "51.50"


def test_put_sets_the_quantity(api):
    api.send("POST", "/api/cart/items", {"sku": "TEA-002", "quantity": 5})
    response = api.send("PUT", "/api/cart/items/TEA-002", {"quantity": 2})
    assert response.status_code == 200
    assert response.json()["items"][0]["quantity"] == 2


def test_delete_removes_one_line_and_delete_cart_clears_all(api):
    api.send("POST", "/api/cart/items", {"sku": "TEA-002"})
    api.send("POST", "/api/cart/items", {"sku": "TEA-003"})
    assert [i["sku"] for i in api.send("DELETE", "/api/cart/items/TEA-002").json()["items"]] == ["TEA-003"]
    assert api.send("DELETE", "/api/cart").json()["count"] == 0


BAD_ADDS = [
    ({"sku": "NOPE-1"}, "no product"),
    ({"sku": "TEA-001", "quantity": 0}, "from 1 to 99"),
    ({"sku": "TEA-001", "quantity": -3}, "from 1 to 99"),
    ({"sku": "TEA-001", "quantity": 100}, "from 1 to 99"),
    ({"sku": "TEA-001", "quantity": 1.5}, "whole number"),
    ({"sku": "TEA-001", "quantity": "2"}, None),  # digits in a string are accepted below
    ({"sku": "TEA-001", "quantity": "two"}, "whole number"),
    ({"sku": "TEA-001", "quantity": True}, "whole number"),
    ({"sku": "TEA-001", "quantity": None}, "whole number"),
    ({"sku": 7}, "sku"),
    ({}, "sku"),
    ({"sku": "TEA-001", "colour": "red"}, "Unknown field"),
]


@pytest.mark.parametrize("body,words", [case for case in BAD_ADDS if case[1]])
def test_bad_add_input_is_a_400_with_a_sentence_and_the_cart_is_unchanged(api, body, words):
    api.send("POST", "/api/cart/items", {"sku": "TEA-004", "quantity": 2})
    before = cart_of(api)
    response = api.send("POST", "/api/cart/items", body)
    assert response.status_code == 400
    message = response.json()["error"]
    assert words in message and message.endswith(".")
    assert cart_of(api) == before


def test_a_quantity_written_as_digits_is_accepted(api):
    assert api.send("POST", "/api/cart/items", {"sku": "TEA-001", "quantity": "2"}).json()["count"] == 2


def test_malformed_json_is_a_400(api):
    response = api.send("POST", "/api/cart/items", raw="{not json")
    assert response.status_code == 400
    assert response.json()["error"] == "The body is not valid JSON."


def test_a_json_body_that_is_not_an_object_is_a_400(api):
    response = api.send("POST", "/api/cart/items", raw="[1, 2]")
    assert response.status_code == 400
    assert "JSON object" in response.json()["error"]


def test_the_wrong_content_type_is_a_400(api):
    response = api.send("POST", "/api/cart/items", raw="sku=TEA-001", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "application/json" in response.json()["error"]


def test_adding_past_99_is_refused_and_keeps_the_quantity(api):
    api.send("POST", "/api/cart/items", {"sku": "TEA-005", "quantity": 98})
    response = api.send("POST", "/api/cart/items", {"sku": "TEA-005", "quantity": 2})
    assert response.status_code == 400
    assert "limit of 99" in response.json()["error"]
    assert cart_of(api)["items"][0]["quantity"] == 98


@pytest.mark.parametrize("body", [{"quantity": 0}, {"quantity": 100}, {"quantity": "x"}, {}, {"qty": 2}])
def test_bad_put_input_is_a_400_and_keeps_the_quantity(api, body):
    api.send("POST", "/api/cart/items", {"sku": "TEA-006", "quantity": 3})
    response = api.send("PUT", "/api/cart/items/TEA-006", body)
    assert response.status_code == 400
    assert response.json()["error"]
    assert cart_of(api)["items"][0]["quantity"] == 3


def test_put_and_delete_of_an_unknown_sku_are_400(api):
    assert api.send("PUT", "/api/cart/items/NOPE", {"quantity": 1}).status_code == 400
    assert api.send("DELETE", "/api/cart/items/NOPE").status_code == 400


def test_a_wrong_method_is_a_405_that_says_what_is_allowed(api):
    response = api.send("PATCH", "/api/cart")
    assert response.status_code == 405
    assert response["Allow"] == "GET, DELETE"
    assert "GET or DELETE" in response.json()["error"]


def test_a_change_without_the_csrf_header_is_refused_with_json(api):
    api.csrf_token()
    response = api.client.post("/api/cart/items", data=json.dumps({"sku": "TEA-001"}), content_type="application/json")
    assert response.status_code == 403
    assert "X-CSRFToken" in response.json()["error"]
    assert cart_of(api)["count"] == 0


def test_the_session_endpoint_says_who_and_where(api):
    body = api.get("/api/session").json()
    assert body["authenticated"] is False
    assert body["username"] is None
    assert body["instance"]
    assert body["idle_timeout_s"] == 20 * 60
    assert "csrftoken" in api.client.cookies


def test_every_response_says_which_instance_served_it(api):
    for path in ("/api/session", "/api/products", "/healthz", "/"):
        assert api.get(path)["X-Served-By"]
