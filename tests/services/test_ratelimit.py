"""The public pages' limiter: a fixed window per action and address, counted in the database (so every app
server shares it), refusing from the (N+1)th request until the window ends."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask import current_app
from sqlalchemy import func, select

from portal.clock import frozen_at
from portal.config import ConfigError, _rate_limit
from portal.extensions import db
from portal.models import RateWindow
from portal.services.ratelimit import purge_windows, take
from tests.online import clean_online  # noqa: F401

T0 = datetime(2026, 3, 2, 8, 0, 0)


@pytest.fixture
def limits(ctx, monkeypatch):
    monkeypatch.setitem(current_app.config, "PORTAL_PUBLIC_RATE_LIMITS",
                        {"file": (3, 3600), "track": (2, 600), "material": (5, 60), "rate": (5, 60)})


def test_the_fourth_filing_in_an_hour_is_refused_until_the_window_ends(limits):
    with frozen_at(T0 + timedelta(minutes=10)):
        assert [take("file", "203.0.113.7") for _ in range(3)] == [None, None, None]
        assert take("file", "203.0.113.7") == 50 * 60          # seconds left in the hour
        assert take("file", "203.0.113.7") == 50 * 60          # still refused (and still counted)
        assert take("file", "203.0.113.8") is None             # another address
        assert take("track", "203.0.113.7") is None            # another action
    with frozen_at(T0 + timedelta(hours=1)):
        assert take("file", "203.0.113.7") is None             # a new window


def test_the_count_lives_in_the_database(limits):
    with frozen_at(T0):
        take("track", "198.51.100.1")
        take("track", "198.51.100.1")
    row = db.session.scalar(select(RateWindow).where(RateWindow.bucket == "track:198.51.100.1"))
    assert (row.hits, row.window_start) == (2, int((T0 - datetime(1970, 1, 1)).total_seconds()))


def test_ended_windows_are_purged(limits):
    with frozen_at(T0):
        take("track", "198.51.100.1")
    with frozen_at(T0 + timedelta(minutes=30)):
        take("track", "198.51.100.1")
        assert purge_windows() == 0                            # the longest limit (an hour) keeps it
    with frozen_at(T0 + timedelta(hours=2)):
        assert purge_windows() == 2
    assert db.session.scalar(select(func.count()).select_from(RateWindow)) == 0


def test_a_login_window_longer_than_the_public_ones_is_kept_until_it_ends(limits, monkeypatch):
    monkeypatch.setitem(current_app.config, "PORTAL_LOGIN_RATE_LIMIT", (5, 86400))
    start = T0.replace(hour=0)
    with frozen_at(start + timedelta(hours=8)):
        take("login", "198.51.100.1", (5, 86400))
    with frozen_at(start + timedelta(hours=23)):
        assert purge_windows() == 0                            # the day's window runs on
    with frozen_at(start + timedelta(hours=25)):
        assert purge_windows() == 1


@pytest.mark.parametrize("text,expected", [("5 per hour", (5, 3600)), ("20 per 10 minutes", (20, 600)),
                                           ("1 per day", (1, 86400)), ("30 per 45 seconds", (30, 45))])
def test_limits_are_written_in_words(monkeypatch, text, expected):
    monkeypatch.setenv("PORTAL_RATE_LIMIT_X", text)
    assert _rate_limit("PORTAL_RATE_LIMIT_X", "1 per hour") == expected


@pytest.mark.parametrize("text", ["5/hour", "0 per hour", "five per hour", "5 per fortnight", "5 every hour"])
def test_a_bad_limit_stops_the_portal(monkeypatch, text):
    monkeypatch.setenv("PORTAL_RATE_LIMIT_X", text)
    with pytest.raises(ConfigError):
        _rate_limit("PORTAL_RATE_LIMIT_X", "1 per hour")
