"""Hostile input: whatever arrives, the answer is a 4xx or an anonymous session, never a 5xx,
and nobody else's data changes."""

import hashlib
import json

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


def test_an_oversized_body_is_refused_without_a_server_error(victim):
    client = Client()
    token = client.get("/api/session").cookies["csrftoken"].value
    body = json.dumps({"sku": "TEA-001", "quantity": 1, "padding": "x" * (3 * 1024 * 1024)})
    response = client.post("/api/cart/items", data=body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert 400 <= response.status_code < 500
    assert victim_cart(victim) == 7


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
