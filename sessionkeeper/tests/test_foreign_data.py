"""Foreign data under any key the engine touches: a security warning and a clean outcome, never a 500.

One test per script (load, create, save, counter, revoke, index, rate) and per pipeline
(login, logout, listing, revocation), each planting data this engine did not write.
"""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth import get_user_model

from sessionkeeper import layout, stats
from sessionkeeper.client import get_client
from sessionkeeper.conf import config
from sessionkeeper.store import SessionStore
from sessionkeeper.tests.helpers import account_key, hash_key, index_key, indexed
from sessionkeeper.user_sessions import list_user_sessions, revoke_all_sessions, revoke_session

pytestmark = pytest.mark.django_db

SECURITY = "django.security.SuspiciousSession"


def warned(caplog) -> bool:
    return any(record.name == SECURITY for record in caplog.records)


def signed_in(user_id: str = "7") -> str:
    session = SessionStore()
    session["cart"] = {"note": "x"}
    session.cycle_key()
    session["_auth_user_id"] = user_id
    session.save()
    return session.session_key


def test_load_of_a_key_holding_a_list_is_an_empty_session(topology, caplog):
    key = signed_in()
    get_client().delete(hash_key(key))
    get_client().rpush(hash_key(key), "not", "a", "hash")
    with caplog.at_level(logging.WARNING, logger=SECURITY):
        assert dict(SessionStore(key).items()) == {}
    assert warned(caplog)


def test_load_of_a_hash_with_garbage_meta_is_an_empty_session(topology, caplog):
    key = signed_in()
    get_client().hset(hash_key(key), mapping={"m": "garbage"})
    with caplog.at_level(logging.WARNING, logger=SECURITY):
        assert dict(SessionStore(key).items()) == {}
    assert warned(caplog)


def test_create_on_a_key_holding_a_string_takes_another_key(topology, caplog, monkeypatch):
    taken = "t" * layout.V2_KEY_LENGTH
    get_client().set(hash_key(taken), "someone else's")
    keys = iter([taken])
    original = SessionStore._get_new_session_key
    monkeypatch.setattr(SessionStore, "_get_new_session_key", lambda self: next(keys, None) or original(self))
    session = SessionStore()
    session["theme"] = "dark"
    with caplog.at_level(logging.WARNING, logger=SECURITY):
        session.save()
    assert session.session_key != taken
    assert SessionStore(session.session_key)["theme"] == "dark"
    assert get_client().get(hash_key(taken)) == b"someone else's"
    assert warned(caplog)


def test_a_save_over_a_key_turned_into_a_string_is_an_update_error_not_a_crash(topology, site, caplog):
    site.get("/api/session/write")
    key = site.cookies["sessionid"].value

    def replaced(request):
        request.session.get("theme")
        get_client().delete(hash_key(key))
        get_client().set(hash_key(key), "foreign")
        request.session["theme"] = "light"
        from django.http import JsonResponse

        return JsonResponse({})

    from django.urls import path

    from sessionkeeper.tests import urls

    urls.urlpatterns.append(path("api/replaced", replaced))
    try:
        with caplog.at_level(logging.WARNING, logger=SECURITY):
            response = site.get("/api/replaced")
    finally:
        urls.urlpatterns.pop()
    assert response.status_code == 400  # Django's SessionInterrupted: the session was not this engine's
    assert get_client().get(hash_key(key)) == b"foreign"


def test_a_counter_change_on_a_key_turned_into_a_list_is_a_400_not_a_500(topology, site, caplog):
    site.get("/api/cart/add?sku=tea")
    key = site.cookies["sessionid"].value
    session = SessionStore(key)
    assert session.counters("cart").items() == {"tea": 1}  # loaded before the key is replaced
    get_client().delete(hash_key(key))
    get_client().rpush(hash_key(key), "x")
    with caplog.at_level(logging.WARNING, logger=SECURITY):
        from django.contrib.sessions.exceptions import SessionInterrupted

        with pytest.raises(SessionInterrupted, match="not this engine's"):
            session.counters("cart").add("tea", 1, 10)
    assert warned(caplog)


def test_a_counter_that_is_not_a_number_is_left_alone(topology, caplog):
    key = signed_in()
    get_client().hset(hash_key(key), "c:cart:tea", "lots")
    with caplog.at_level(logging.WARNING, logger=SECURITY):
        assert dict(SessionStore(key).items()) == {}  # the hash is not ours: an empty session


def test_garbage_operation_records_do_not_stop_a_counter_change(topology):
    key = signed_in()
    get_client().hset(hash_key(key), "o", "\x00garbage,:::,")
    assert SessionStore(key).counters("cart").add("tea", 2, 10) == 2


def test_a_login_with_a_users_account_record_holding_a_string_signs_in_and_replaces_it(topology, site, caplog):
    user = get_user_model().objects.create(username="ada")
    get_client().set(account_key(user.pk), "not an account record")
    with caplog.at_level(logging.WARNING, logger=SECURITY):
        response = site.get("/login?username=ada")
    assert response.status_code == 200
    assert site.get("/api/session").json()["user"] == user.pk
    assert [s.digest for s in list_user_sessions(user.pk)] == [layout.session_digest(site.cookies["sessionid"].value)]
    assert warned(caplog)


def test_a_logout_with_a_users_account_record_holding_a_string_signs_out(topology, site, caplog):
    site.get("/login?username=ada")
    user_id = site.get("/api/session").json()["user"]
    get_client().delete(account_key(user_id))
    get_client().set(account_key(user_id), "not a hash")
    with caplog.at_level(logging.WARNING, logger=SECURITY):
        assert site.get("/logout").status_code == 200
    assert site.get("/api/session").json()["user"] is None
    assert warned(caplog)


def test_a_logout_with_an_older_users_index_holding_a_hash_signs_out(topology, site, caplog, options):
    options(LAYOUT=2)
    site.get("/login?username=ada")
    user_id = site.get("/api/session").json()["user"]
    get_client().delete(index_key(user_id))
    get_client().hset(index_key(user_id), "x", "y")
    with caplog.at_level(logging.WARNING, logger=SECURITY):
        assert site.get("/logout").status_code == 200
    assert site.get("/api/session").json()["user"] is None
    assert warned(caplog)


def test_a_listing_skips_and_prunes_an_entry_whose_key_is_foreign(topology, caplog):
    live, foreign = signed_in(), signed_in()
    get_client().delete(hash_key(foreign))
    get_client().set(hash_key(foreign), "foreign")
    with caplog.at_level(logging.WARNING, logger=SECURITY):
        assert [s.digest for s in list_user_sessions(7)] == [layout.session_digest(live)]
    assert layout.session_digest(foreign) not in indexed(7)
    assert warned(caplog)


def test_revocation_leaves_a_foreign_key_alone_and_revokes_the_rest(topology, caplog):
    live, foreign = signed_in(), signed_in()
    get_client().delete(hash_key(foreign))
    get_client().set(hash_key(foreign), "foreign")
    with caplog.at_level(logging.WARNING, logger=SECURITY):
        assert not revoke_session(7, layout.session_digest(foreign))
        assert revoke_all_sessions(7) == 1
    assert get_client().get(hash_key(foreign)) == b"foreign"
    assert "_auth_user_id" not in SessionStore(live)


def test_a_creation_counter_holding_a_hash_is_replaced(topology, options):
    options(CREATION_RATE=(5, 60))
    get_client().hset(layout.creation_key(config().key_prefix, "192.0.2.1"), "x", "y")
    session = SessionStore()
    session.bind_client(ip="192.0.2.1")
    session["theme"] = "dark"
    session.save()
    assert SessionStore(session.session_key)["theme"] == "dark"
    assert stats.snapshot()["events"]["creation_refused"] == 0
