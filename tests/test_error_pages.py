"""Error pages a person can read, in the site's own style."""

import pytest
from django.test import Client


@pytest.mark.django_db
def test_an_unknown_address_is_a_friendly_404(site_redis):
    response = Client().get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Page not found</h1>" in html
    assert "/static/sessiondemo/site.css" in html
