"""Security headers on every answer: CSP without unsafe-inline, HSTS over https, nosniff, referrer policy."""

import pytest
from django.test import Client


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/cart/", "/accounts/login/", "/api/session", "/healthz"])
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


@pytest.mark.django_db
def test_pages_have_no_inline_script_or_style_for_the_policy_to_break(site_redis):
    for path in ("/", "/cart/", "/accounts/login/", "/accounts/signup/"):
        html = Client().get(path).content.decode()
        assert "<script>" not in html and "<style" not in html and " style=" not in html
