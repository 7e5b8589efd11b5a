"""Helpers for the browser tests that look at pages: phone and desktop contexts, the overflow
check, screenshots kept in test-artifacts/, and a failing page's screenshot and HTML."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterator

from tests.devtools.scaleout.conftest import ARTIFACTS
from tests.fixtures.site_client import SiteClient

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
WIDTHS = {"390": PHONE, "1280": DESKTOP}
SCREENSHOTS = ARTIFACTS / "pages"

# Everything visible must lie within the layout viewport, and nothing may scroll sideways
# inside its box (a table wider than its wrapper hides its last columns behind a scroll).
# Visually hidden helpers (clipped to 1 px) are skipped: they are meant to be invisible.
OVERFLOW_CHECK = """
() => {
  const width = document.documentElement.clientWidth;
  const problems = [];
  const describe = (element) => {
    let name = element.tagName.toLowerCase();
    if (element.id) name += "#" + element.id;
    if (typeof element.className === "string" && element.className.trim()) {
      name += "." + element.className.trim().split(/\\s+/).join(".");
    }
    return name;
  };
  if (document.documentElement.scrollWidth > width) {
    problems.push(`the page is ${document.documentElement.scrollWidth} px wide in a ${width} px viewport`);
  }
  for (const element of document.querySelectorAll("body *")) {
    const style = getComputedStyle(element);
    if (style.display === "none" || style.visibility === "hidden" || style.clip !== "auto") continue;
    if (element.closest("dialog:not([open]), [hidden]")) continue;
    const box = element.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.right > width + 1 || box.left < -1) {
      problems.push(`${describe(element)} spans ${Math.round(box.left)}-${Math.round(box.right)} px of ${width}`);
    }
    if (["auto", "scroll", "hidden"].includes(style.overflowX) && element.scrollWidth > element.clientWidth + 1) {
      problems.push(`${describe(element)} is ${element.scrollWidth} px wide in a ${element.clientWidth} px box`);
    }
  }
  return problems;
}
"""


def overflow(page) -> list[str]:
    """Sentences naming each element wider than the viewport or its box; empty when the page fits."""
    return page.evaluate(OVERFLOW_CHECK)


def widest(page) -> int:
    """The page's width in CSS pixels: more than the viewport means it scrolls sideways."""
    return page.evaluate("() => document.documentElement.scrollWidth")


def artifact_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{artifact_name(name)}.png"), full_page=True)


@contextlib.contextmanager
def kept_when_failing(page, name: str) -> Iterator[None]:
    """On a failed assertion (or any error), leave the page's screenshot and HTML in test-artifacts/."""
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        stem = ARTIFACTS / f"failed-{artifact_name(name)}"
        with contextlib.suppress(Exception):
            page.screenshot(path=f"{stem}.png", full_page=True)
            stem.with_suffix(".html").write_text(page.content())
        raise


def browser_context(browser, cluster, viewport: dict[str, int], client: SiteClient | None = None, **options):
    """A Chromium context on the cluster: a phone (touch, mobile viewport) at 390 px, a desktop at 1280 px;
    with ``client``'s cookies, so that it is the same session (the same signed-in user and cart)."""
    phone = viewport["width"] < 600
    context = browser.new_context(
        base_url=cluster.url,
        ignore_https_errors=True,
        viewport=viewport,
        is_mobile=phone,
        has_touch=phone,
        **options,
    )
    context.set_default_timeout(15_000)
    if client is not None:
        context.add_cookies(
            [
                {"name": cookie.name, "value": cookie.value, "url": cluster.url, "secure": True}
                for cookie in client.http.cookies
            ]
        )
    return context


def make_staff(cluster, username: str) -> None:
    """Give a user the staff flag, in the cluster's own database (SQLite), as an operator would in the admin."""
    database = cluster.settings.database_url.removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(database)) as connection, connection:
        changed = connection.execute("UPDATE auth_user SET is_staff = 1 WHERE username = ?", (username,)).rowcount
    assert changed == 1, f"No user {username!r} in {database}."
