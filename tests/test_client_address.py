"""The client's address behind the proxies: what a client writes in X-Forwarded-For doesn't count."""

import pytest
from django.test import RequestFactory

from sessiondemo.client_address import client_ip


@pytest.mark.parametrize(
    "proxies,forwarded,expected",
    [
        (1, "", "10.0.0.9"),  # no proxy said anything: the socket's address
        (1, "203.0.113.5", "203.0.113.5"),  # the front end's own entry
        (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # the client's forged entry is ignored
        (2, "6.6.6.6, 203.0.113.5, 10.1.1.1", "203.0.113.5"),  # two proxies in front
        (2, "203.0.113.5", "10.0.0.9"),  # fewer entries than proxies: don't trust any
        (0, "6.6.6.6", "10.0.0.9"),  # exposed directly: only the socket counts
    ],
)
def test_the_client_is_read_from_the_right_by_the_number_of_trusted_proxies(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
