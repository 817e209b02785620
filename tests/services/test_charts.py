"""The dashboard's charts against the hand-built county of test_kpis (its docstring lists the cases):
received and resolved month by month with on-time and late, by dispute category, by township."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.clock import frozen_at
from portal.extensions import db
from portal.models import DisputeType
from portal.services.charts import by_category, by_township, monthly
from portal.services.kpis import KpiFilters
from tests.conftest import user
from tests.services.test_kpis import NOW, county  # noqa: F401 (the fixture)


def test_months_received_resolved_on_time_and_late(county):  # noqa: F811
    with frozen_at(NOW):
        chart = monthly(user("director"), KpiFilters())
    assert chart.categories[0] == "2025-07" and chart.categories[-1] == "2026-06"
    by_month = {m: {k: chart.series[k][i] for k in chart.series} for i, m in enumerate(chart.categories)}
    # registered: I 2025-12, J 02, A B 03, C D 04, E 05, F G K 06 (H, 2025-04, is before the 12 months)
    assert [by_month[m]["received"] for m in chart.categories] == [0, 0, 0, 0, 0, 1, 0, 1, 2, 2, 1, 3]
    # closed: I 2026-01 (16 days after 2025-12-20, late), J 02 (kept), A B 03 (kept), C 04 (late), D 04 (kept),
    # E 05 (kept)
    assert [by_month[m]["resolved"] for m in chart.categories] == [0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 1, 0]
    assert [by_month[m]["on_time"] for m in chart.categories] == [0, 0, 0, 0, 0, 0, 0, 1, 2, 1, 1, 0]
    assert [by_month[m]["late"] for m in chart.categories] == [0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0]


def _name(code: str) -> str:
    return db.session.scalar(select(DisputeType.name).where(DisputeType.code == code))


def test_categories_and_townships_in_the_period(county):  # noqa: F811
    with frozen_at(NOW):
        category = by_category(user("director"), KpiFilters())
        township = by_township(user("director"), KpiFilters())
        mine = by_township(user("xiang"), KpiFilters())
        march = by_township(user("director"), KpiFilters(date(2026, 3, 1), date(2026, 3, 31)))
    rows = {name: {k: category.series[k][i] for k in category.series} for i, name in enumerate(category.categories)}
    # in 2026-01-01..06-30: registered 03: A C D E F G J K, 02: B; closed 03: A C D E I J, 02: B;
    # agreements among the closed: A D I (03), B (02)
    assert rows == {_name("02"): {"received": 1, "resolved": 1, "success": 1},
                    _name("03"): {"received": 8, "resolved": 6, "success": 3}}
    pairs = zip(township.series["received"], township.series["resolved"], strict=True)
    towns = dict(zip(township.categories, pairs, strict=True))
    assert towns["城关镇"] == (7, 6) and sum(r for r, _ in towns.values()) == 9  # T02 (D, G): 2 received, 1 closed
    assert sum(c for _, c in towns.values()) == 7
    own = dict(zip(mine.categories, mine.series["received"], strict=True))
    assert own["城关镇"] == 7 and sum(own.values()) == 7  # the township sees only its own territory
    assert dict(zip(march.categories, march.series["received"], strict=True))["城关镇"] == 2  # A and B
