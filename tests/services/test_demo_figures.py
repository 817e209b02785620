"""The demo county's dashboard shows a county like the one the speech describes: mediation nearly
always succeeds, about half the pre-filing mediations do, most disputes are resolved in the village or
the township, in about four days where it took ten the year before, and the aid paid comes to a few
thousand yuan a case (millions for a county of a thousand cases). The generator's distributions are
tuned to that; no figure is written in. A small demo (120 cases) is seeded into a database of its own."""
from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from portal import create_app
from portal.extensions import db
from portal.models import PortalUser
from portal.services.deadlines import local_today
from portal.services.kpis import KpiFilters, figures


@pytest.fixture(scope="module")
def demo():
    from portal.demo.seed import seed_demo
    from portal.services.setup import initialise_portal
    tmp = Path(tempfile.mkdtemp(prefix="portal-demo-"))
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'demo.db'}",
                      "SECRET_KEY": "demo", "UPLOAD_FOLDER": f"{tmp / 'uploads'}/",
                      "PORTAL_PRINT_FOLDER": str(tmp / "prints")})
    with app.app_context():
        upgrade()
        initialise_portal()
        seed_demo(n_cases=120)
        yield app
        db.session.remove()


def _figures(days: int) -> dict:
    """The figures of the last ``days`` days (a year earlier: the same dates), for the director."""
    director = db.session.scalar(select(PortalUser).where(PortalUser.username == "director"))
    today = local_today()
    return {f.key: f for f in figures(director, KpiFilters(today - timedelta(days=days - 1), today))}


def test_the_demo_county_looks_like_the_speech(demo):
    year = _figures(365)
    assert year["received"].value >= 50 and year["received"].previous >= 30
    assert year["mediation_success"].value >= 0.95
    assert year["resolved_village"].value + year["resolved_township"].value >= 0.65
    assert 2.0 <= year["days_to_resolve"].value <= 6.5 <= year["days_to_resolve"].previous
    assert year["on_time"].value >= 0.8 and year["satisfaction"].value >= 0.9
    assert year["cards_issued"].value > 0 and year["service_persons"].value > 0
    per_case = year["aid_paid"].value / year["resolved"].value
    assert 1000 <= per_case <= 6000, per_case   # ×1,000 cases a year: millions
    both = _figures(730)   # pre-filing mediations are few: two years of them
    assert both["pre_suit_success"].denominator >= 4
    assert 0.2 <= both["pre_suit_success"].value <= 0.8
