"""Round trips per request through the project's middleware stack (issue 3, item 1)."""

from __future__ import annotations

import pytest
from django.test import Client

from sessionkeeper.client import get_client
from sessionkeeper.scripts import load_scripts_everywhere
from sessionkeeper.tests.helpers import round_trips

pytestmark = pytest.mark.django_db


def trips(site, path: str) -> int:
    with round_trips() as counter:
        response = site.get(path)
    assert response.status_code == 200, response.content
    return counter.round_trips


def warmed(site):
    """A browser with a session; connections, the cluster map and the scripts are ready.

    The first call of each script on a server costs one more round trip (NOSCRIPT, then EVAL).
    """
    load_scripts_everywhere(get_client())
    site.get("/api/session/write")
    site.get("/api/session/write?theme=warm")
    site.get("/api/cart/add?sku=warm")
    site.get("/api/session")
    return site


def test_a_request_that_never_touches_the_session_costs_nothing(topology, site):
    assert trips(warmed(site), "/untouched") == 0


def test_a_read_only_request_costs_one_round_trip_with_the_sliding_refresh(single, site):
    assert trips(warmed(site), "/api/session") == 1


def test_a_read_only_request_on_the_cluster_costs_one_round_trip(cluster, site):
    assert trips(warmed(site), "/api/session") == 1


def test_a_request_that_changes_the_session_costs_two_round_trips(topology, site):
    assert trips(warmed(site), "/api/session/write?theme=light") == 2


def test_an_add_to_cart_costs_two_round_trips_and_sets_the_cookie(topology, site):
    warmed(site)
    with round_trips() as counter:
        response = site.get("/api/cart/add?sku=tea")
    assert counter.round_trips == 2
    assert "sessionid" in response.cookies


def test_a_first_add_to_cart_without_a_session_costs_two_round_trips(site, topology):
    warmed(Client())
    assert trips(site, "/api/cart/add?sku=tea") == 2
    assert trips(site, "/api/cart") == 1


def test_a_login_costs_at_most_three_round_trips_on_a_single_redis(single, site):
    assert trips(warmed(site), "/login") <= 3


def test_a_login_on_the_cluster_costs_one_round_trip_per_node_a_pipeline_reaches(cluster, site):
    # The old and the new session hash, and the user's index, live in different slots: the
    # cycle_key pipeline (new hash, old hash) and the save pipeline (hash, index) may each
    # reach two masters. Their sends go out before any reply is read, so each pipeline
    # still waits about one round trip of time.
    assert trips(warmed(site), "/login") <= 5


def test_a_logout_costs_two_round_trips(single, site):
    warmed(site).get("/login")
    assert trips(warmed(site), "/logout") == 2
