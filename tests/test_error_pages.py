"""Errors keep the user in the site: every error page has the site's frame and a way back, the
JSON API answers JSON for every error, and Django's debug pages are readable in development
while production keeps the strict Content-Security-Policy."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import path

import sessiondemo.urls
from sessiondemo import views
from sessiondemo.middleware import CONTENT_SECURITY_POLICY


def boom(request):
    raise RuntimeError("a bug on purpose, for the 500 page")


def quiet(request):
    return HttpResponse("fine")


# This module is also the URLconf of the tests that need a view that fails.
urlpatterns = [path("boom/", boom), path("api/boom", boom), *sessiondemo.urls.urlpatterns]
handler400 = sessiondemo.urls.handler400
handler403 = sessiondemo.urls.handler403
handler404 = sessiondemo.urls.handler404
handler500 = sessiondemo.urls.handler500


def assert_in_the_sites_frame(html: str) -> None:
    assert 'class="site-header"' in html and "Leaf &amp; Kettle" in html, "No site header."
    assert "/static/sessiondemo/site.css" in html
    assert 'class="site-footer"' in html
    assert 'href="/">Back to the catalog</a>' in html, "No way back."


@pytest.fixture
def failing_urls(settings):
    settings.ROOT_URLCONF = __name__


@pytest.mark.django_db
def test_an_unknown_address_is_the_sites_404_page_with_a_way_back(site_redis):
    response = Client().get("/no/such/page/", HTTP_REFERER="http://testserver/cart/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Page not found</h1>" in html
    assert_in_the_sites_frame(html)
    assert '<a class="button" href="/cart/">Go back</a>' in html


@pytest.mark.django_db
def test_a_way_back_never_leads_off_the_site(site_redis):
    html = Client().get("/no/such/page/", HTTP_REFERER="https://evil.example/phish").content.decode()
    assert "evil.example" not in html and "Go back" not in html


@pytest.mark.django_db
def test_a_bad_host_is_the_sites_400_page(site_redis):
    response = Client().get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    html = response.content.decode()
    assert "<h1>That request didn't make sense</h1>" in html
    assert_in_the_sites_frame(html)


@pytest.mark.django_db
def test_a_page_only_staff_may_see_is_the_sites_403_page_with_the_reason(site_redis, django_user_model):
    client = Client()
    client.force_login(django_user_model.objects.create_user("customer", password="a long passphrase"))
    response = client.get("/ops/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Only staff may see the operations page." in html
    assert_in_the_sites_frame(html)


@pytest.mark.django_db
def test_a_bug_is_the_sites_500_page_without_the_traceback(site_redis, failing_urls):
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "<h1>Something went wrong</h1>" in html and "a bug on purpose" not in html
    assert_in_the_sites_frame(html)


@pytest.mark.django_db
def test_a_bug_under_the_api_is_a_json_500(site_redis, failing_urls):
    response = Client(raise_request_exception=False).get("/api/boom")
    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    assert "has been logged" in response.json()["error"]


def test_too_many_requests_is_a_429_page_with_retry_after_or_json_under_the_api():
    page = views.too_many_requests(RequestFactory().get("/accounts/login/"), 30, "Too many sign-ins from here.")
    assert page.status_code == 429 and page["Retry-After"] == "30"
    html = page.content.decode()
    assert "Too many sign-ins from here." in html and "Try again in 30 seconds." in html
    assert_in_the_sites_frame(html)
    api = views.too_many_requests(RequestFactory().get("/api/cart"), 7)
    assert api.status_code == 429 and api["Retry-After"] == "7"
    assert json.loads(api.content)["error"].endswith("try again in 7 s.")


def test_the_session_engines_refusals_are_the_sites_429_and_400_pages():
    from sessiondemo.unavailable import session_creation_refused_response, session_too_large_response

    class CreationRefused(Exception):
        retry_after = 12

    response = session_creation_refused_response(RequestFactory().get("/"), CreationRefused("Too many new sessions."))
    assert response.status_code == 429 and response["Retry-After"] == "12"
    html = response.content.decode()
    assert "Too many new sessions." in html and "Try again in 12 seconds." in html
    assert_in_the_sites_frame(html)
    response = session_too_large_response(RequestFactory().get("/cart/"), ValueError("This session is too large."))
    assert response.status_code == 400
    assert "This session is too large." in response.content.decode()
    assert_in_the_sites_frame(response.content.decode())
    api = session_too_large_response(RequestFactory().get("/api/cart"), ValueError("This session is too large."))
    assert json.loads(api.content) == {"error": "This session is too large."}


# --- CSRF ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_stale_form_is_the_sites_403_page_with_a_link_back_to_the_form(site_redis):
    client = Client(enforce_csrf_checks=True)
    client.get("/")  # the catalog's forms carry a token, and set the cookie
    response = client.post(
        "/cart/add/TEA-001/",
        {"quantity": "1", "csrfmiddlewaretoken": "x" * 64},  # another tab's login rotated the real one
        HTTP_REFERER="http://testserver/",
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert "<h1>That form had gone stale</h1>" in html and "nothing was changed" in html
    assert '<a class="button" href="/">Go back</a>' in html
    assert_in_the_sites_frame(html)
    assert "Django said" not in html  # the reason is for developers (DEBUG) only
    assert client.get("/api/cart").json()["count"] == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_X_CSRFTOKEN": "nonsense"}],
    ids=["no token", "wrong token"],
)
def test_the_apis_csrf_error_is_one_sentence_with_single_punctuation(site_redis, headers):
    client = Client(enforce_csrf_checks=True)
    client.get("/api/session")
    response = client.post("/api/cart/items", {"sku": "TEA-001"}, content_type="application/json", **headers)
    assert response.status_code == 403
    message = response.json()["error"]
    assert message.startswith("The CSRF check failed (CSRF token ")
    assert "X-CSRFToken" in message
    assert not re.search(r"[.!?]\)|\.\.|\)\.\.", message), message
    assert message.count(".") == 2, message  # two sentences, one full stop each


# --- The JSON API answers JSON ------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True], ids=["production", "DEBUG"])
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
@pytest.mark.parametrize("address", ["/api/nope", "/api/", "/api/cart/", "/api/cart/items/TEA-001/extra"])
def test_any_unknown_address_under_the_api_is_a_json_404(site_redis, settings, method, address, debug):
    settings.DEBUG = debug
    response = Client(enforce_csrf_checks=True).generic(method, address)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == (
        f"There is no API endpoint at {address}; the endpoints are listed in the README."
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "address", "allowed"),
    [
        ("POST", "/api/products", "GET"),
        ("PATCH", "/api/cart", "GET, DELETE"),
        ("GET", "/api/cart/items", "POST"),
        ("POST", "/api/cart/items/TEA-001", "PUT, DELETE"),
        ("DELETE", "/api/session", "GET"),
    ],
)
def test_a_wrong_method_under_the_api_is_a_json_405_with_allow(api, method, address, allowed):
    response = api.send(method, address)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == allowed
    assert response.json()["error"].endswith(".")


@pytest.mark.django_db
def test_a_page_that_asks_for_json_gets_json_errors(site_redis):
    response = Client().get("/no/such/page/", HTTP_ACCEPT="application/json")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"


# --- Django's debug pages in development --------------------------------------------


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@pytest.mark.django_db
def test_djangos_debug_404_is_styled_in_debug_by_the_hash_of_its_own_style_only(site_redis, settings):
    settings.DEBUG = True
    response = Client().get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Using the URLconf defined in" in html  # Django's page, not ours
    policy = response["Content-Security-Policy"]
    [style] = re.findall(r"<style[^>]*>(.*?)</style>", html, re.DOTALL)
    assert f"style-src 'self' {sha256_source(style)}" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy


@pytest.mark.django_db
def test_djangos_debug_500_runs_its_own_script_and_handlers_by_hash(site_redis, settings, failing_urls):
    settings.DEBUG = True
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    policy = response["Content-Security-Policy"]
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", html, re.DOTALL)
    assert scripts and all(sha256_source(script) in policy for script in scripts)
    handler = re.search(r'onclick="([^"]*)"', html).group(1)
    assert "'unsafe-hashes'" in policy and sha256_source(handler.replace("&#x27;", "'")) in policy
    assert "unsafe-inline" not in policy


@pytest.mark.django_db
def test_production_never_relaxes_the_policy_even_for_a_page_that_looks_like_a_debug_page(site_redis, settings):
    settings.DEBUG = False
    response = Client().get("/no/such/page/")
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "sha256" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_in_debug_the_sites_own_pages_keep_the_strict_policy(site_redis, settings):
    settings.DEBUG = True
    assert Client().get("/")["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_djangos_debug_pages_render_styled_and_scripted_in_chromium_without_a_policy_violation(
    site_redis, settings, live_server
):
    """What a newcomer sees with ./run.sh: the debug 404 and 500 with their styles and scripts running."""
    from tests.observability.test_ops_page import chromium

    settings.DEBUG = True
    settings.ROOT_URLCONF = __name__
    with chromium() as browser:
        page = browser.new_page()
        violations: list[str] = []
        page.on(
            "console", lambda message: "Content Security Policy" in message.text and violations.append(message.text)
        )
        try:
            assert page.goto(f"{live_server.url}/no/such/page/").status == 404
            assert page.eval_on_selector("#summary", "e => getComputedStyle(e).backgroundColor") == "rgb(255, 255, 204)"
            assert page.goto(f"{live_server.url}/boom/").status == 500
            assert page.eval_on_selector("#summary", "e => getComputedStyle(e).backgroundColor") == "rgb(255, 255, 204)"
            assert page.evaluate("() => typeof toggle") == "function", "The debug page's script did not run."
            shown = "() => [...document.querySelectorAll('ol.pre-context')].filter(e => e.offsetParent).length"
            before = page.evaluate(shown)
            page.locator("ol.context-line li[onclick]").first.click()  # the inline handler, allowed by its hash
            assert page.evaluate(shown) == before + 1, "The frame's handler did not run."
            assert violations == []
        finally:
            page.close()
