"""The database drops a request's connection after the answer is ready (a restart at that moment): the
answer is sent, not a 500, and the next request gets a new connection."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from portal.extensions import db


def test_a_connection_dropped_after_the_answer_is_ready_does_not_turn_it_into_an_error(app, login_as):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("a server that drops a connection is PostgreSQL's; SQLite is a file in the process")
    client = login_as("dispatch")
    killer = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    killed = []

    def drop_the_connection(_exc):   # Flask runs teardowns last registered first: this one before the portal's
        if db.session.registry.has() and db.session().in_transaction():
            pid = db.session.connection().connection.dbapi_connection.info.backend_pid
            with killer.connect() as conn:
                killed.append(conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar())

    app.teardown_appcontext_funcs.append(drop_the_connection)
    try:
        page = client.get("/worklist/")
    finally:
        app.teardown_appcontext_funcs.remove(drop_the_connection)
        killer.dispose()
    assert killed == [True]
    assert page.status_code == 200 and 'id="worklist"' in page.get_data(as_text=True)
    assert client.get("/worklist/").status_code == 200   # a new connection from the pool
