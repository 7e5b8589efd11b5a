"""Hostile input: whatever arrives, the answer is a 4xx or an anonymous session, never a 5xx,
and nobody else's data changes. Under /api/ every refusal is JSON with a sentence."""

import hashlib
import json
from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from sessiondemo.redis_client import get_redis
from sessionkeeper import layout

FAST = hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))

# What a cookie header can carry: printable ASCII without the separators, then anything.
cookie_values = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters=';,"\\'), max_size=300),
    st.text(max_size=60).map(lambda text: text.encode("utf-8", "surrogatepass").decode("latin-1")),
    st.just("x" * 5000),
)


@pytest.fixture
def victim(db, site_redis):
    """Another user's session with a cart, which no hostile request may change."""
    client = Client()
    client.post("/cart/add/TEA-001/", {"quantity": "7"})
    return client


def victim_cart(victim) -> int:
    return victim.get("/api/cart").json()["count"]


@FAST
@given(cookie=cookie_values)
def test_any_session_cookie_gives_a_working_anonymous_session(victim, cookie):
    header = f"{settings.SESSION_COOKIE_NAME}={cookie}".replace("\r", "").replace("\n", "")
    for path in ("/", "/api/cart", "/api/session"):
        response = Client().get(path, HTTP_COOKIE=header)
        assert response.status_code < 500
        if path == "/api/cart":
            assert response.json()["count"] == 0
    assert victim_cart(victim) == 7


def test_another_sessions_key_hash_as_a_cookie_is_just_an_unknown_session(victim):
    session_key = victim.cookies[settings.SESSION_COOKIE_NAME].value
    digest = hashlib.sha256(session_key.encode()).hexdigest()
    thief = Client()
    thief.cookies[settings.SESSION_COOKIE_NAME] = digest
    assert thief.get("/api/cart").json()["count"] == 0
    thief.post("/cart/add/TEA-002/", {"quantity": "1"})
    assert victim_cart(victim) == 7


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)


@FAST
@given(body=json_values)
def test_any_json_body_for_add_is_a_200_or_a_400_with_a_sentence(victim, body):
    client = Client()
    token = client.get("/api/session").cookies["csrftoken"].value
    response = client.post(
        "/api/cart/items", data=json.dumps(body), content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert response.json()["error"].endswith(".")
    assert victim_cart(victim) == 7


@FAST
@given(quantity=st.text(max_size=12), sku=st.text(max_size=40))
def test_any_form_fields_give_a_message_not_an_error_page(victim, quantity, sku):
    client = Client()
    path = "/cart/add/TEA-003/"
    response = client.post(path, {"quantity": quantity, "next": sku})
    assert response.status_code in (302, 400, 403)
    assert victim_cart(victim) == 7


def hostile_post(raw, path: str = "/api/cart/items", method: str = "POST", **extra):
    client = Client()
    token = client.get("/api/session").cookies["csrftoken"].value
    return client.generic(method, path, raw, content_type="application/json", HTTP_X_CSRFTOKEN=token, **extra)


def json_error(response) -> str:
    """The API's answer to hostile input: a 400, in JSON, with a sentence."""
    assert response.status_code == 400, response.content[:200]
    assert response["Content-Type"] == "application/json"
    message = response.json()["error"]
    assert message.endswith(".") and not message.endswith("..")
    return message


@pytest.mark.parametrize("megabytes", [0.1, 3])
def test_an_oversized_body_is_a_json_400_not_an_html_page(victim, megabytes):
    # 3 MB passes Django's own 2.5 MB limit, whose RequestDataTooBig would be an HTML 400.
    body = json.dumps({"sku": "TEA-001", "quantity": 1, "padding": "x" * int(megabytes * 1024 * 1024)})
    assert "send at most 16384" in json_error(hostile_post(body))
    assert victim_cart(victim) == 7


def test_a_100k_deep_nesting_is_a_json_400_before_it_is_parsed(victim):
    for raw in ("[" * 100_000, '{"sku": ' * 100_000, "[" * 5 + "]" * 5, '{"sku": [[[[["TEA-001"]]]]]}'):
        assert "nests deeper than 4 levels" in json_error(hostile_post(raw[:16_000]))
    assert victim_cart(victim) == 7


def test_a_50000_digit_number_is_a_json_400(victim):
    for number in ("9" * 50_000, "-" + "1" * 5_000, "1" + "0" * 30, "1e" + "9" * 30):
        raw = '{"sku": "TEA-001", "quantity": ' + number + "}"
        response = hostile_post(raw)
        assert response.status_code == 400
        assert "long" in json_error(response)
    assert victim_cart(victim) == 7


def test_a_lone_surrogate_is_a_json_400_before_it_reaches_the_database(victim):
    for raw in (
        r'{"sku": "\ud800"}',
        r'{"sku": "TEA-001\udfff"}',
        r'{"\ud800": 1}',
        r'{"sku": "TEA-001", "quantity": "\ud800"}',
    ):
        assert "lone surrogate" in json_error(hostile_post(raw))
    assert victim_cart(victim) == 7


def test_nul_characters_and_unprintable_skus_are_a_json_400(victim):
    assert "NUL" in json_error(hostile_post(r'{"sku": "TEA-001\u0000"}'))
    assert "no product" in json_error(hostile_post("", path="/api/cart/items/TEA-001%00", method="DELETE"))
    assert "no product" in json_error(
        hostile_post('{"quantity": 1}', path="/api/cart/items/" + "A" * 200, method="PUT")
    )
    assert victim_cart(victim) == 7


def test_nan_and_infinity_are_not_json_and_are_refused(victim):
    for constant in ("NaN", "Infinity", "-Infinity"):
        assert "JSON does not allow" in json_error(hostile_post('{"sku": "TEA-001", "quantity": ' + constant + "}"))


def test_a_body_that_is_not_utf8_is_a_json_400(victim):
    assert "UTF-8" in json_error(hostile_post('{"sku": "TEA-001"}'.encode("utf-16")))


def test_a_content_length_that_is_not_a_number_is_a_json_400(victim):
    # gunicorn refuses this before Django; the API must not depend on it.
    assert "Content-Length" in json_error(hostile_post('{"sku": "TEA-001"}', CONTENT_LENGTH="twelve"))


def test_a_truncated_or_binary_body_is_a_400(victim):
    client = Client()
    token = client.get("/api/session").cookies["csrftoken"].value
    for raw in (b'{"sku": "TEA-0', b"\xff\xfe\x00garbage", b""):
        response = client.generic(
            "POST", "/api/cart/items", raw, content_type="application/json", HTTP_X_CSRFTOKEN=token
        )
        assert response.status_code == 400  # an empty body means "no fields": the sku is missing
    assert victim_cart(victim) == 7


@pytest.mark.skipif(settings.SESSION_BACKEND != "redis", reason="tampers with the project's session hashes")
@pytest.mark.parametrize("tampering", ["garbage-fields", "wrong-type", "bad-counter", "bad-json"])
def test_tampered_session_data_in_redis_becomes_an_anonymous_session(victim, tampering):
    attacker = Client()
    attacker.post("/cart/add/TEA-004/", {"quantity": "2"})
    key = layout.session_digest(attacker.cookies[settings.SESSION_COOKIE_NAME].value)
    redis_key = layout.session_hash_key(settings.REDIS_KEY_PREFIX, key)
    client = get_redis()
    if tampering == "garbage-fields":
        client.hset(redis_key, mapping={"d:x": b"\x00\x01\x02", "m:seen": "not a time"})
    elif tampering == "wrong-type":
        client.delete(redis_key)
        client.rpush(redis_key, "not", "a", "hash")
    elif tampering == "bad-counter":
        client.hset(redis_key, "c:cart:TEA-004", "lots")
    else:
        client.hset(redis_key, "d:_auth_user_id", b"j{not json")
    for path in ("/", "/api/cart", "/cart/"):
        response = attacker.get(path)
        assert response.status_code < 500, (tampering, path)
    assert attacker.get("/api/session").json()["authenticated"] is False
    assert victim_cart(victim) == 7


# --- every /api/ endpoint, with generated methods, paths, headers and bodies ------------------

API_PATHS = ["/api/products", "/api/cart", "/api/cart/items", "/api/cart/items/TEA-001", "/api/session"]
header_text = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=255, blacklist_characters="\x7f"), max_size=80
)
api_paths = st.one_of(
    st.sampled_from(API_PATHS),
    st.text(max_size=80).map(lambda sku: "/api/cart/items/" + quote(sku, safe="")),
    st.text(max_size=30).map(lambda rest: "/api/" + quote(rest, safe="/")),
)
near_valid = st.fixed_dictionaries(
    {}, optional={"sku": json_values | st.sampled_from(["TEA-001", "ACC-001", " TEA-002 "]), "quantity": json_values}
)
api_bodies = st.one_of(
    json_values.map(json.dumps),
    near_valid.map(json.dumps),
    st.binary(max_size=300),
    st.integers(1, 20_000).map(lambda depth: "[" * depth),
    st.integers(20, 20_000).map(lambda digits: '{"sku": "TEA-001", "quantity": ' + "7" * digits + "}"),
    st.sampled_from(
        [
            r'{"sku": "\ud800"}',
            r'{"sku": "\udfff", "quantity": 1}',
            '{"sku": "TEA-001", "quantity": NaN}',
            '{"sku": "TEA-001", "quantity": 1e400}',
            '{"sku": "TEA-001", "quantity": -0}',
            '{"sku": "TEA-001", "quantity": 1, "sku": 5}',
            "\ufeff{}",
        ]
    ),
)
content_types = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "application/json; charset=latin-1",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "multipart/form-data",
            "",
        ]
    ),
    header_text,
)
api_headers = st.dictionaries(
    st.sampled_from(["Accept", "X-Forwarded-For", "User-Agent", "Idempotency-Key", "Origin", "Referer", "Host"]),
    header_text,
    max_size=4,
)


@pytest.fixture
def fuzzing_client(victim):
    # One browser for every example: new sessions per example would meet the session-creation rate.
    return Client()


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
    path=api_paths,
    body=api_bodies,
    content_type=content_types,
    headers=api_headers,
)
def test_no_generated_request_to_the_api_gets_a_server_error(
    victim, fuzzing_client, method, path, body, content_type, headers
):
    response = fuzzing_client.generic(method, path, body, content_type=content_type, headers=headers)
    assert response.status_code < 500, (method, path, body[:100], content_type, headers, response.content[:300])
    if response.status_code >= 400 and method != "HEAD":
        assert response["Content-Type"] == "application/json", (method, path, response.content[:300])
        assert response.json()["error"].endswith(".")
    assert victim_cart(victim) == 7
