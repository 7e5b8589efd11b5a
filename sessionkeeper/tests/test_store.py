"""The store keeps Django's session semantics, on a single Redis and on a 3-master cluster."""

from __future__ import annotations

import json
import logging

import pytest
from django.contrib.sessions.backends.base import CreateError, UpdateError

from sessionkeeper import stats
from sessionkeeper.client import get_client
from sessionkeeper.exceptions import SessionTooLarge
from sessionkeeper.scripts import ALL_SCRIPTS
from sessionkeeper.tests.helpers import flush_scripts, hash_key, scan_all


def test_a_new_session_has_no_key_until_it_is_saved(store):
    session = store()
    assert session.session_key is None
    session["theme"] = "dark"
    session.save()
    assert session.session_key is not None
    assert session.exists(session.session_key)


def test_saved_data_loads_in_another_store(store):
    session = store()
    session["theme"] = "dark"
    session["numbers"] = [1, 2, 3]
    session.save()
    again = store(session.session_key)
    assert again["theme"] == "dark"
    assert again["numbers"] == [1, 2, 3]


def test_an_unknown_key_loads_as_an_empty_session_and_saves_under_a_new_key(store):
    session = store("an-unknown-session-key-0000000000")
    assert dict(session.items()) == {}
    assert session.session_key is None
    session["theme"] = "light"
    session.save()
    assert session.session_key != "an-unknown-session-key-0000000000"


def test_create_gives_a_fresh_key_each_time(store):
    first, second = store(), store()
    first.create()
    second.create()
    assert first.session_key != second.session_key


def test_save_with_must_create_refuses_an_existing_key(store):
    session = store()
    session.create()
    duplicate = store(session.session_key)
    with pytest.raises(CreateError):
        duplicate.save(must_create=True)


def test_delete_removes_the_session(store):
    session = store()
    session["theme"] = "dark"
    session.save()
    key = session.session_key
    session.delete()
    assert not session.exists(key)
    assert dict(store(key).items()) == {}


def test_delete_of_another_key_leaves_this_session_alone(store):
    mine, other = store(), store()
    mine["a"] = 1
    mine.save()
    other["b"] = 2
    other.save()
    mine.delete(other.session_key)
    assert mine.exists(mine.session_key)
    assert not mine.exists(other.session_key)


def test_flush_deletes_the_data_and_forgets_the_key(store):
    session = store()
    session["theme"] = "dark"
    session.save()
    key = session.session_key
    session.flush()
    assert session.session_key is None
    assert not session.exists(key)
    assert dict(session.items()) == {}


def test_cycle_key_keeps_the_data_under_a_new_key_and_deletes_the_old(store):
    session = store()
    session["a"], session["b"] = "c", "d"
    session.save()
    old_key = session.session_key
    session.cycle_key()
    assert session.session_key != old_key
    assert not session.exists(old_key)
    assert dict(store(session.session_key).items()) == {"a": "c", "b": "d"}


def test_a_save_with_nothing_changed_sends_nothing(store):
    from sessionkeeper.tests.helpers import round_trips

    session = store()
    session["theme"] = "dark"
    session.save()
    again = store(session.session_key)
    with round_trips() as trips:
        assert again["theme"] == "dark"
        again.save()
    assert trips.round_trips == 1


def test_removing_a_key_deletes_its_field(store):
    session = store()
    session["a"], session["b"] = 1, 2
    session.save()
    again = store(session.session_key)
    del again["a"]
    again.save()
    assert dict(store(session.session_key).items()) == {"b": 2}


def test_clear_then_save_empties_the_stored_session(store):
    session = store()
    session["a"] = 1
    session.counters("cart").add("tea", 2, 10)
    session.save()
    again = store(session.session_key)
    again.clear()
    again.save()
    reloaded = store(session.session_key)
    assert dict(reloaded.items()) == {}
    assert reloaded.counters("cart").items() == {}


def test_writers_of_different_keys_do_not_overwrite_each_other(store):
    session = store()
    session["start"] = True
    session.save()
    first, second = store(session.session_key), store(session.session_key)
    assert first["start"] and second["start"]
    first["theme"] = "dark"
    second["language"] = "fr"
    first.save()
    second.save()
    assert dict(store(session.session_key).items()) == {"start": True, "theme": "dark", "language": "fr"}
    assert stats.snapshot()["events"]["conflict"] == 0


def test_two_writers_of_the_same_key_are_counted_as_a_conflict(store, caplog):
    session = store()
    session["theme"] = "plain"
    session.save()
    first, second = store(session.session_key), store(session.session_key)
    assert first["theme"] == second["theme"] == "plain"
    first["theme"] = "dark"
    second["theme"] = "light"
    first.save()
    with caplog.at_level(logging.WARNING, logger="sessionkeeper"):
        second.save()
    assert stats.snapshot()["events"]["conflict"] == 1
    assert "changed by another request" in caplog.text


def test_a_write_after_delete_does_not_bring_the_session_back(store):
    session = store()
    session["theme"] = "dark"
    session.save()
    tab = store(session.session_key)
    tab["theme"] = "light"  # loaded before the logout in the other tab
    store(session.session_key).delete()
    with pytest.raises(UpdateError):
        tab.save()
    assert not tab.exists(session.session_key)


def test_large_values_are_compressed_and_read_back_unchanged(store):
    session = store()
    text = "the same sentence again and again. " * 200
    session["notes"] = text
    session["small"] = "x"
    session.save()
    raw = get_client().hgetall(hash_key(session.session_key))
    assert raw[b"d:notes"][:1] == b"z"
    assert len(raw[b"d:notes"]) < len(text) / 5
    assert raw[b"d:small"] == b"sx"  # a short string is stored as itself
    assert store(session.session_key)["notes"] == text


def test_redis_holds_json_zstd_and_plain_strings_only_and_never_the_cookie(store):
    session = store()
    session["cart"] = {"tea": 2}
    session["notes"] = "n" * 5000
    session.counters("cart").add("coffee", 1, 10)
    session.save()
    cookie = session.session_key.encode()
    client = get_client()
    keys = scan_all(client)
    assert keys
    for key in keys:
        assert cookie not in key
        for field, value in client.hgetall(key).items():
            assert cookie not in field and cookie not in value
            assert not value.startswith(b"\x80")  # a pickle's protocol marker
            if field.startswith(b"d:"):
                assert value[:1] in (b"j", b"z", b"s", b"x", b"k")
                if value[:1] == b"j":
                    json.loads(value[1:])


def test_corrupt_data_gives_an_empty_session_and_a_security_warning(store, caplog):
    session = store()
    session["theme"] = "dark"
    session.save()
    key = hash_key(session.session_key)
    get_client().hset(key, "d:theme", b"\x80\x04pickled?")
    with caplog.at_level(logging.WARNING, logger="django.security.SuspiciousSession"):
        assert dict(store(session.session_key).items()) == {}
    assert any(record.name == "django.security.SuspiciousSession" for record in caplog.records)
    assert stats.snapshot()["events"]["corrupt"] == 1


def test_a_key_of_the_wrong_type_gives_an_empty_session_and_a_security_warning(store, caplog):
    cookie = "a-session-key-with-foreign-data-123"
    get_client().set(hash_key(cookie), "not a hash")
    with caplog.at_level(logging.WARNING, logger="django.security.SuspiciousSession"):
        session = store(cookie)
        assert dict(session.items()) == {}
    assert session.session_key is None
    assert "could not be read" in caplog.text


def test_a_session_over_the_size_cap_is_refused_with_a_sentence(store, options):
    options(MAX_BYTES=4096)
    session = store()
    session["ok"] = "small"
    session.save()
    again = store(session.session_key)
    again["blob"] = "".join(f"{n:x}" for n in range(5000))  # hex counting: compresses poorly
    with pytest.raises(SessionTooLarge, match=r"more than the 4096 allowed; nothing was saved"):
        again.save()
    assert dict(store(session.session_key).items()) == {"ok": "small"}


@pytest.mark.parametrize("script", ALL_SCRIPTS, ids=lambda script: script.name)
def test_every_script_runs_again_after_the_server_forgot_it(store, script):
    session = store()
    session["theme"] = "dark"
    session.counters("cart").add("tea", 1, 10)
    session.save()
    flush_scripts()
    key = hash_key(session.session_key)
    client = get_client()
    if script.name == "load":
        assert store(session.session_key)["theme"] == "dark"
    elif script.name == "create":
        fresh = store()
        fresh["theme"] = "light"
        fresh.save()
        assert store(fresh.session_key)["theme"] == "light"
    elif script.name == "save":
        again = store(session.session_key)
        again["theme"] = "light"
        flush_scripts()
        again.save()
        assert store(session.session_key)["theme"] == "light"
    elif script.name == "counter":
        again = store(session.session_key)
        assert again["theme"] == "dark"
        flush_scripts()
        assert again.counters("cart").add("tea", 1, 10) == 2
    elif script.name == "revoke":
        assert script(client, [key], [*session._header(), "nobody", "revoked", "0"]) == [0, 0]
        assert client.exists(key)


def test_a_pipeline_repeats_only_the_script_calls_the_server_had_forgotten(store):
    from sessionkeeper.scripts import REVOKE, Command, ScriptCall, run_pipeline

    client = get_client()
    header = store()._header()
    flush_scripts()
    replies = run_pipeline(
        client,
        [
            ScriptCall(REVOKE, ("sk:s:{x}",), (*header, "7", "revoked", "0")),
            Command(("SET", "sk:t:{x}", "1")),
            ScriptCall(REVOKE, ("sk:s:{y}",), (*header, "7", "revoked", "0")),
        ],
    )
    assert replies == [[0, 0], True, [0, 0]]
