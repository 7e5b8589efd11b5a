"""The "Active sessions" page stays small and quick however often one user signs in (issue 15, item 8)."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.test import Client

from sessionkeeper.store import SessionStore

pytestmark = pytest.mark.django_db


def test_the_sessions_page_after_a_thousand_logins_of_one_user_lists_only_the_newest_quickly(site_redis, settings):
    user = User.objects.create_user("often", password="a long enough password")
    for _ in range(1000):  # what each login leaves behind: a session in the user's index
        session = SessionStore()
        session.cycle_key()
        session.update(
            {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash(),
            }
        )
        session.save()
    browser = Client()
    browser.force_login(user)
    browser.get("/accounts/sessions/")  # warm: templates compiled, connections open
    started = time.perf_counter()
    response = browser.get("/accounts/sessions/")
    elapsed_ms = (time.perf_counter() - started) * 1000
    rows = response.content.count(b'class="session-row')
    print(
        f"/accounts/sessions/ after 1,000 logins of one user: {rows} rows, {len(response.content)} bytes, {elapsed_ms:.1f} ms"
    )
    assert response.status_code == 200
    assert rows == settings.SESSIONKEEPER["MAX_SESSIONS_PER_USER"]  # the oldest were signed out as newer ones came
    assert elapsed_ms < 500  # generous for a shared machine; about 20 ms on an idle one
