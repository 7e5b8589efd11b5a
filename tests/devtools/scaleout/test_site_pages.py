"""Every page of the site, on a 390 px phone and a 1280 px desktop, through the cluster:
nothing is wider than the viewport or hidden behind a sideways scroll, and a screenshot of
each page at each width is kept in test-artifacts/pages/."""

from __future__ import annotations

import pytest
import requests
from django.test import RequestFactory

from sessiondemo import views
from sessiondemo.unavailable import session_store_unavailable_response
from tests.devtools.scaleout.browsing import (
    WIDTHS,
    browser_context,
    kept_when_failing,
    make_staff,
    overflow,
    screenshot,
)
from tests.fixtures.site_client import SiteClient, new_username

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LONG_NAME_LENGTH = 40  # the sign-up form takes up to 150; a long one tests the header's wrapping


@pytest.fixture(scope="module")
def staff_shopper(cluster) -> SiteClient:
    """A signed-in staff member with a cart of four lines, and a second device signed in."""
    shopper = SiteClient(cluster.url, str(cluster.certificate.authority))
    username = new_username("a-shopper-with-a-long-name")[:LONG_NAME_LENGTH]
    shopper.sign_up(username)
    make_staff(cluster, username)
    for sku, quantity in (("TEA-002", 2), ("TEA-009", 1), ("ACC-002", 12), ("ACC-003", 1)):
        assert shopper.add(sku, quantity).status_code == 200
    SiteClient(cluster.url, str(cluster.certificate.authority)).log_in(username)  # another row on Sessions
    return shopper


@pytest.fixture(scope="module")
def customer(cluster) -> SiteClient:
    shopper = SiteClient(cluster.url, str(cluster.certificate.authority))
    shopper.sign_up(new_username("customer"))
    return shopper


def rendered_error(cluster, name: str) -> tuple[int, str]:
    """Error pages no request to the cluster can trigger on purpose, rendered by the same code."""
    request = RequestFactory().get("/", HTTP_REFERER="http://testserver/cart/")
    response = {
        "500": lambda: views.server_error(request),
        "429": lambda: views.too_many_requests(request, 30, "Too many sign-ins from this address."),
        "503": lambda: session_store_unavailable_response(request),
    }[name]()
    return response.status_code, response.content.decode()


def bad_host_page(cluster) -> tuple[int, str]:
    """A real 400 from an instance: a Host header the site does not serve."""
    port = cluster.settings.instance_ports[0]
    answer = requests.get(f"http://127.0.0.1:{port}/", headers={"Host": "evil.example"}, timeout=10)
    return answer.status_code, answer.text


def answer_with(status: int, html: str):
    return lambda route: route.fulfill(status=status, body=html, content_type="text/html")


# name -> (path, who, ready): who is "anonymous", "staff" or "customer"; ready is a selector to wait for.
PAGES = {
    "catalog": ("/", "anonymous", None),
    "product": ("/products/TEA-002/", "anonymous", None),
    "login": ("/accounts/login/", "anonymous", None),
    "signup": ("/accounts/signup/", "anonymous", None),
    "cart": ("/cart/", "staff", "tr.cart-line"),
    "cart-empty-confirmation": ("/cart/clear/", "staff", None),
    "sessions": ("/accounts/sessions/", "staff", "tr.session-row"),
    "password-change": ("/accounts/password/", "staff", None),
    "ops": ("/ops/", "staff", "#ops[data-rendered-at]"),
    "error-404": ("/no/such/page/", "anonymous", None),
    "error-403": ("/ops/", "customer", None),
    "error-400": ("/__error/400", "anonymous", None),
    "error-429": ("/__error/429", "anonymous", None),
    "error-500": ("/__error/500", "anonymous", None),
    "error-503": ("/__error/503", "anonymous", None),
}
STATUS = {"error-404": 404, "error-403": 403, "error-400": 400, "error-429": 429, "error-500": 500, "error-503": 503}


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_fits_a_phone_and_a_desktop_without_sideways_scrolling(
    name, browser, cluster, staff_shopper, customer
):
    path, who, ready = PAGES[name]
    client = {"staff": staff_shopper, "customer": customer}.get(who)
    for width, viewport in WIDTHS.items():
        context = browser_context(browser, cluster, viewport, client)
        page = context.new_page()
        if path.startswith("/__error/"):
            code = path.rsplit("/", 1)[1]
            status, html = bad_host_page(cluster) if code == "400" else rendered_error(cluster, code)
            page.route(f"{cluster.url}{path}", answer_with(status, html))
        try:
            with kept_when_failing(page, f"{name}-{width}"):
                response = page.goto(path)
                assert response.status == STATUS.get(name, 200), f"{path} answered {response.status}"
                if ready:
                    page.wait_for_selector(ready)
                page.wait_for_load_state("load")
                assert page.evaluate("() => getComputedStyle(document.body).display") == "flex", (
                    "The site's CSS did not load."
                )
                screenshot(page, f"{name}-{width}")
                assert overflow(page) == [], f"{name} at {width} px"
        finally:
            context.close()
