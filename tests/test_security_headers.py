"""Security headers on every answer: CSP without unsafe-inline, HSTS over https, nosniff, referrer policy."""

import re
from pathlib import Path

import pytest
from django.test import Client


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/", "/cart/", "/cart/clear/", "/products/TEA-001/", "/accounts/login/", "/api/session", "/healthz", "/nope/"],
)
def test_every_answer_carries_the_security_headers(site_redis, settings, path):
    settings.SECURE_SSL_REDIRECT = False
    settings.SECURE_HSTS_SECONDS = 31536000
    response = Client().get(path, secure=True)
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=", re.IGNORECASE)


@pytest.mark.django_db
def test_pages_have_no_inline_script_style_or_handler_for_the_policy_to_break(site_redis, django_user_model):
    client = Client()
    client.post("/cart/add/TEA-001/", {"quantity": "2"})
    paths = ["/", "/cart/", "/cart/clear/", "/products/TEA-001/", "/accounts/login/", "/accounts/signup/", "/nope/"]
    for path in paths:
        html = client.get(path).content.decode()
        assert not INLINE.search(html), f"{path}: {INLINE.search(html).group(0)}"
    client.force_login(django_user_model.objects.create_user("staff", password="a long passphrase", is_staff=True))
    for path in ("/accounts/sessions/", "/accounts/password/", "/ops/"):
        html = client.get(path).content.decode()
        assert not INLINE.search(html), f"{path}: {INLINE.search(html).group(0)}"


def test_the_pages_scripts_are_static_files_that_run_under_the_policy():
    from django.contrib.staticfiles import finders

    for script in ("cart/cart.js", "observability/ops.js"):
        source = Path(finders.find(script)).read_text()
        # No eval or new Function (script-src without 'unsafe-eval'), no style attribute (style-src without
        # 'unsafe-inline'), no HTML parsed from strings (where an inline handler could hide).
        for blocked in ("eval(", "new Function", 'setAttribute("style"', "innerHTML"):
            assert blocked not in source, f"{script} uses {blocked}"
