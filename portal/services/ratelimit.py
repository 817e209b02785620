"""Per-address limits of the public pages: a fixed-window counter kept in the database.

Each request of a limited action adds one to the row of (action, address, window) with one atomic
INSERT … ON CONFLICT DO UPDATE … RETURNING, so several app servers (and threads) count together and
none can lose a hit. A refused request counts too: a flood of bad submissions is limited like good ones.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import delete

from portal.clock import utcnow
from portal.extensions import db
from portal.models import RateWindow
from portal.services._tx import transaction


def _upsert(values: dict):
    table = RateWindow.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).values(**values)
    return statement.on_conflict_do_update(index_elements=[table.c.bucket, table.c.window_start],
                                           set_={"hits": table.c.hits + 1}).returning(table.c.hits)


def _epoch(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1)).total_seconds())


@transaction
def take(action: str, address: str, limit: tuple[int, int] | None = None) -> int | None:
    """Count one request of ``action`` from ``address``; None when it is within the limit, else the
    seconds until the window ends (the request is refused). ``limit``: (count, window seconds), if not
    the public pages' limit of ``action``."""
    count, seconds = limit or current_app.config["PORTAL_PUBLIC_RATE_LIMITS"][action]
    now = _epoch(utcnow())
    start = now - now % seconds
    hits = db.session.execute(_upsert({"bucket": f"{action}:{address}"[:120], "window_start": start,
                                       "hits": 1})).scalar_one()
    return None if hits <= count else max(start + seconds - now, 1)


@transaction
def purge_windows() -> int:
    """Drop the counters of windows that have ended (the longest limit's window ago: the public pages',
    the API's, the logins'); return how many."""
    config = current_app.config
    limits = [*config["PORTAL_PUBLIC_RATE_LIMITS"].values(), config.get("PORTAL_API_RATE_LIMIT"),
              config.get("PORTAL_LOGIN_RATE_LIMIT")]
    longest = max(seconds for _count, seconds in filter(None, limits))
    result = db.session.execute(delete(RateWindow).where(RateWindow.window_start < _epoch(utcnow()) - longest))
    return result.rowcount or 0
