"""Fixtures for the session engine's tests: a store factory, a settable clock, and a request runner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client

from sessiondemo.redis_client import get_redis
from sessiondemo.sessions import stats
from sessiondemo.sessions.store import SessionStore


@dataclass
class FakeClock:
    """Seconds since the epoch that only move when a test says so; starts at the real time."""

    now: float

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def engine(settings):
    """The project's engine with its documented defaults, and fresh figures."""
    settings.SESSION_ENGINE = "sessiondemo.sessions.store"
    settings.SESSION_SAVE_EVERY_REQUEST = False
    settings.SESSION_IDLE_TIMEOUT = 1200
    settings.SESSION_ABSOLUTE_TIMEOUT = 43200
    settings.SESSION_GRACE_PERIOD = 1800
    settings.SESSION_COMPRESS_THRESHOLD = 1024
    settings.SESSION_MAX_BYTES = 65536
    settings.SESSION_GRACE_KEEP = ["cart"]
    stats.reset()
    return settings


@pytest.fixture
def store(any_redis, engine) -> Callable[..., SessionStore]:
    """Make SessionStore instances against single Redis and the cluster in turn."""
    return SessionStore


@pytest.fixture
def single_store(redis_url, engine) -> Callable[..., SessionStore]:
    return SessionStore


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    import time

    fake = FakeClock(time.time())
    monkeypatch.setattr(SessionStore, "clock", fake)
    return fake


@pytest.fixture
def raw_redis(any_redis):
    return get_redis()


@pytest.fixture
def site(engine, settings) -> Client:
    """Django's test Client on the test-only URLconf, through the project's whole middleware stack."""
    settings.ROOT_URLCONF = "tests.sessions.urls"
    return Client()
