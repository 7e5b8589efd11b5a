"""/ops/ in headless Chromium: the page draws its charts from /ops/data.json, for several instances."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from observability import ops

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

STRICT_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'"

pytestmark = pytest.mark.browser


@contextlib.contextmanager
def chromium():
    """A headless Chromium, opened after the test's database work and closed before its teardown:
    Playwright's sync API runs an event loop, inside which Django refuses database calls."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def tile(page, label: str) -> str:
    """The value of the site tile with this label."""
    return (
        page.locator("#site-tiles .ops-tile", has=page.locator("span", has_text=label))
        .first.locator("strong")
        .inner_text()
    )


def generate_traffic_from_two_instances(api, settings) -> None:
    """Session reads and writes, with a second instance publishing alongside this one.

    The publish interval is shortened so that a few seconds of history fit in a test.
    """
    settings.OPS_PUBLISH_INTERVAL = 0.25
    second = ops.Publisher()
    for _round in range(6):
        for sku in ("TEA-001", "TEA-002", "ACC-001"):
            api.send("POST", "/api/cart/items", {"sku": sku})
        api.get("/api/cart")
        second.publish("instance-b")
        ops.publisher.publish("instance-a")
        time.sleep(0.25)


def test_the_ops_page_draws_its_charts_for_every_instance(live_server, api, staff_member, fresh_figures, settings):
    generate_traffic_from_two_instances(api, settings)
    staff = Client()
    staff.force_login(staff_member)
    session_cookie = staff.cookies[django_settings.SESSION_COOKIE_NAME].value
    with chromium() as browser:
        check_the_ops_page(browser, live_server.url, session_cookie)


def check_the_ops_page(browser, url: str, session_cookie: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": session_cookie, "url": url}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # The site has no favicon (not this page's business); every other resource must load.
    page.on(
        "response",
        lambda answer: (
            answer.status >= 400
            and not answer.url.endswith("/favicon.ico")
            and errors.append(f"{answer.status} {answer.url}")
        ),
    )
    page.on("console", lambda message: "Content Security Policy" in message.text and errors.append(message.text))

    # The page must work under the strict policy a later issue brings: no inline script or style.
    def with_strict_policy(route):
        answer = route.fetch()
        route.fulfill(response=answer, headers={**answer.headers, "content-security-policy": STRICT_POLICY})

    page.route(f"{url}/ops/", with_strict_policy)
    try:
        response = page.goto(f"{url}/ops/")
        assert response.status == 200 and response.headers["content-security-policy"] == STRICT_POLICY
        page.wait_for_selector("#ops[data-rendered-at]", timeout=10_000)

        bars = page.eval_on_selector_all(
            "#chart-latency rect.bar", "bars => bars.filter(bar => parseFloat(bar.getAttribute('height')) > 0).length"
        )
        assert bars >= 2, "both load and save latencies should have bars"
        for chart in ("chart-hit-rate", "chart-requests", "chart-memory"):
            lengths = page.eval_on_selector_all(
                f"#{chart} path.series", "paths => paths.map(path => path.getTotalLength())"
            )
            assert lengths and max(lengths) > 10, f"{chart} should draw a line"
        names = page.eval_on_selector_all("#instances tr.instance", "rows => rows.map(row => row.dataset.instance)")
        assert {"instance-a", "instance-b"} <= set(names)
        # And the live server, which served the page (and the test client's "vm:80", the same process).
        assert len(names) >= 3
        workers = page.eval_on_selector_all("#instances tr.worker", "rows => rows.map(row => row.dataset.instanceOf)")
        assert sorted(workers) == sorted(names), "Each instance should list its one worker beneath it."
        assert page.locator("#instances tr.instance.current").count() == 1
        assert page.eval_on_selector_all("#instances .sparkline path", "paths => paths.length") >= 2
        assert page.locator("#site-tiles .ops-tile").count() >= 10
        assert tile(page, "instances") == str(len(names)) == tile(page, "workers")

        # Every line of the requests chart can be told apart: its own colour and dash, and its whole name.
        looks = page.eval_on_selector_all(
            "#chart-requests path.series",
            "paths => paths.map(path => getComputedStyle(path).stroke + ' ' + getComputedStyle(path).strokeDasharray)",
        )
        assert len(looks) == 1 + len(names) and len(set(looks)) == len(looks), looks  # the site and each instance
        legend = page.eval_on_selector_all(
            "#chart-requests-legend li", "items => items.map(item => item.dataset.series)"
        )
        assert legend == ["whole site", *sorted(names)]
        creations = page.eval_on_selector_all("#chart-creations path.series", "paths => paths.length")
        assert creations >= 1
        assert "Refresh failed" not in page.inner_text("#ops-status")
        assert not errors, errors

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ops.png"), full_page=True)
        assert (ARTIFACTS / "ops.png").stat().st_size > 10_000
    finally:
        context.close()
