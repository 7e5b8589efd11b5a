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
    ({"sku": "TEA-001", "quantity": 1.5}, "JSON integer"),
    ({"sku": "TEA-001", "quantity": "two"}, "JSON integer"),
    ({"sku": "TEA-001", "quantity": True}, "JSON integer"),
    ({"sku": "TEA-001", "quantity": None}, "JSON integer"),
    ({"sku": 7}, "sku"),
    ({}, "sku"),
    ({"sku": "TEA-001", "colour": "red"}, "Unknown field"),
]


def assert_one_sentence(message: str) -> None:
    """An error is a sentence with one full stop at its end: not "(CSRF token missing.)." nor "1.5.."."""
    assert message.endswith(".")
    assert not message.endswith(("..", ".).", "?.", "!."))
    assert ".)" not in message


@pytest.mark.parametrize("body,words", BAD_ADDS)
def test_bad_add_input_is_a_400_with_a_sentence_and_the_cart_is_unchanged(api, body, words):
    api.send("POST", "/api/cart/items", {"sku": "TEA-004", "quantity": 2})
    before = cart_of(api)
    response = api.send("POST", "/api/cart/items", body)
    assert response.status_code == 400
    message = response.json()["error"]
    assert words in message
    assert_one_sentence(message)
    assert cart_of(api) == before


# The contract: a quantity is a JSON integer. Digits in a string, padded or not, a float (even
# a whole one), a boolean, null, a list or an object are each a 400 that names what was sent.
NOT_JSON_INTEGERS = [
    ("a string of digits", "2", '"2"'),
    ("digits padded with spaces", " 3 ", '" 3 "'),
    ("a signed string", "+2", '"+2"'),
    ("a whole float", 2.0, "2.0"),
    ("a fraction", 1.5, "1.5"),
    ("an exponent", 2e0, "2.0"),
    ("true", True, "true"),
    ("false", False, "false"),
    ("null", None, "null"),
    ("a list", [2], "[2]"),
    ("an object", {"value": 2}, '{"value": 2}'),
]


@pytest.mark.parametrize("what,quantity,shown", NOT_JSON_INTEGERS, ids=[case[0] for case in NOT_JSON_INTEGERS])
def test_an_add_whose_quantity_is_not_a_json_integer_is_a_400(api, what, quantity, shown):
    response = api.send("POST", "/api/cart/items", {"sku": "TEA-001", "quantity": quantity})
    assert response.status_code == 400
    message = response.json()["error"]
    assert message == (
        f"The quantity must be a whole number from 1 to 99 written as a JSON integer, such as 2, not {shown}."
    )
    assert_one_sentence(message)
    assert cart_of(api)["count"] == 0


@pytest.mark.parametrize("what,quantity,shown", NOT_JSON_INTEGERS, ids=[case[0] for case in NOT_JSON_INTEGERS])
def test_a_put_whose_quantity_is_not_a_json_integer_is_a_400(api, what, quantity, shown):
    api.send("POST", "/api/cart/items", {"sku": "TEA-006", "quantity": 3})
    response = api.send("PUT", "/api/cart/items/TEA-006", {"quantity": quantity})
    assert response.status_code == 400
    assert response.json()["error"].endswith(f"not {shown}.")
    assert cart_of(api)["items"][0]["quantity"] == 3


def test_a_quantity_written_as_digits_is_accepted_from_the_html_form(api):
    # The page's form sends text; only the JSON API holds to JSON integers.
    response = api.client.post("/cart/add/TEA-001/", {"quantity": " 2 ", "csrfmiddlewaretoken": api.csrf_token()})
    assert response.status_code == 302
    assert cart_of(api)["count"] == 2


def test_a_json_integer_quantity_is_accepted(api):
    assert api.send("POST", "/api/cart/items", {"sku": "TEA-001", "quantity": 2}).json()["count"] == 2
    assert api.send("PUT", "/api/cart/items/TEA-001", {"quantity": 5}).json()["count"] == 5


def test_a_long_value_is_named_cut_short_with_the_full_stop_after_its_quote(api):
    response = api.send("POST", "/api/cart/items", {"sku": "TEA-001", "quantity": "9" * 40 + "."})
    message = response.json()["error"]
    assert message.endswith('not "99999999999999999999\u2026".')
    assert_one_sentence(message)


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
    assert_one_sentence(response.json()["error"])  # not "(CSRF token missing.)."
    assert cart_of(api)["count"] == 0


def test_every_refusal_in_the_api_is_a_sentence_with_one_full_stop(api):
    refusals = [
        api.send("PATCH", "/api/cart"),
        api.send("POST", "/api/cart/items", raw="{not json"),
        api.send("POST", "/api/cart/items", raw="sku=TEA-001", content_type="text/plain."),
        api.send("POST", "/api/cart/items", {"sku": "TEA-001", "quantity": "2."}),
        api.send("POST", "/api/cart/items", {"sku": "NOPE."}),
        api.send("PUT", "/api/cart/items/TEA-001", {}),
        api.send("GET", "/api/nope"),
    ]
    for response in refusals:
        assert 400 <= response.status_code < 500
        assert_one_sentence(response.json()["error"])


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


# --- Idempotency-Key: a change retried with its key is made once ------------------------------


def send_with_key(api, method: str, path: str, key: str, body=None):
    data = json.dumps(body) if body is not None else ""
    return api.client.generic(
        method,
        path,
        data=data,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=api.csrf_token(),
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_an_add_retried_with_its_idempotency_key_is_made_once(api):
    # The client lost the first answer (or saw a 503) and sends the same request again.
    for _ in range(3):
        response = send_with_key(api, "POST", "/api/cart/items", "add-7f3c", {"sku": "TEA-001", "quantity": 2})
        assert response.status_code == 200
        assert response.json()["count"] == 2
    assert cart_of(api)["count"] == 2


def test_adds_with_different_keys_or_no_key_are_each_made(api):
    send_with_key(api, "POST", "/api/cart/items", "first", {"sku": "TEA-001", "quantity": 1})
    send_with_key(api, "POST", "/api/cart/items", "second", {"sku": "TEA-001", "quantity": 1})
    api.send("POST", "/api/cart/items", {"sku": "TEA-001", "quantity": 1})
    api.send("POST", "/api/cart/items", {"sku": "TEA-001", "quantity": 1})
    assert cart_of(api)["count"] == 4


def test_a_key_sent_again_with_another_change_makes_that_change(api):
    send_with_key(api, "POST", "/api/cart/items", "reused", {"sku": "TEA-001", "quantity": 1})
    send_with_key(api, "POST", "/api/cart/items", "reused", {"sku": "TEA-002", "quantity": 3})
    assert {line["sku"]: line["quantity"] for line in cart_of(api)["items"]} == {"TEA-001": 1, "TEA-002": 3}


def test_a_put_retried_with_its_key_does_not_undo_a_later_change(api):
    api.send("POST", "/api/cart/items", {"sku": "TEA-003", "quantity": 1})
    send_with_key(api, "PUT", "/api/cart/items/TEA-003", "set-5", {"quantity": 5})
    api.send("POST", "/api/cart/items", {"sku": "TEA-003", "quantity": 1})
    send_with_key(api, "PUT", "/api/cart/items/TEA-003", "set-5", {"quantity": 5})
    assert cart_of(api)["count"] == 6


def test_a_delete_retried_with_its_key_does_not_remove_the_line_added_since(api):
    api.send("POST", "/api/cart/items", {"sku": "TEA-004", "quantity": 2})
    send_with_key(api, "DELETE", "/api/cart/items/TEA-004", "remove-1")
    api.send("POST", "/api/cart/items", {"sku": "TEA-004", "quantity": 1})
    send_with_key(api, "DELETE", "/api/cart/items/TEA-004", "remove-1")
    assert cart_of(api)["count"] == 1


def test_emptying_retried_with_its_key_does_not_empty_what_was_added_since(api):
    api.send("POST", "/api/cart/items", {"sku": "TEA-005", "quantity": 2})
    send_with_key(api, "DELETE", "/api/cart", "empty-1")
    api.send("POST", "/api/cart/items", {"sku": "TEA-005", "quantity": 1})
    send_with_key(api, "DELETE", "/api/cart", "empty-1")
    assert cart_of(api)["count"] == 1


@pytest.mark.parametrize("key", ["", "has space", "é-accent", "k" * 256])
def test_a_malformed_idempotency_key_is_a_400_that_changes_nothing(api, key):
    response = send_with_key(api, "POST", "/api/cart/items", key, {"sku": "TEA-001", "quantity": 1})
    assert response.status_code == 400
    assert response.json()["error"] == (
        "The Idempotency-Key header must be 1 to 255 visible ASCII characters, such as a UUID."
    )
    assert cart_of(api)["count"] == 0
