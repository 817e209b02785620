"""The dashboard page: a tile per figure with its formula on hover and a link to its cases, the list of
cases behind a figure, and who may open them (the figures themselves: tests/services/test_kpis.py)."""
from __future__ import annotations

import re
from html import unescape

from portal.services.kpis import KPIS
from tests.conftest import row_counts, unit_id


def _tile(html: str, key: str) -> str:
    return re.search(rf'<div class="panel panel-default figure" id="figure-{key}".*?</div>\s*</div>\s*</div>',
                     html, re.S).group(0)


def test_every_figure_has_a_tile_with_its_formula_and_a_link_to_its_cases(login_as, make_case):
    make_case(until=None)   # closed: mediated, on time, satisfied, 司法局 (county level)
    make_case(until="handle", title="王五与赵六相邻关系纠纷")
    html = login_as("director").get("/dashboard/").get_data(as_text=True)
    assert 'id="charts"' in html and 'id="dashboard-filters"' in html
    for kpi in KPIS:
        tile = _tile(html, kpi.key)
        assert f'title="{unescape(str(kpi.formula))[:20]}' in unescape(tile), kpi.key
        assert f"/dashboard/cases?figure={kpi.key}&amp;date_from=" in tile, kpi.key
    received = _tile(html, "received")
    assert re.search(r'class="figure-value"[^>]*>\s*2\s*<', received)
    rate = _tile(html, "mediation_success")
    assert "100.0%" in rate and "part=hits&amp;figure=mediation_success" in rate


def test_the_list_behind_a_figure_and_the_filters_it_keeps(login_as, make_case):
    make_case(until=None)
    make_case(until="handle", title="王五与赵六相邻关系纠纷")
    client = login_as("director")
    html = client.get("/dashboard/cases?figure=received").get_data(as_text=True)
    assert html.count("/cases/") >= 2 and "王五与赵六相邻关系纠纷" in html and 'id="figure-formula"' in html
    html = client.get("/dashboard/cases?figure=resolved").get_data(as_text=True)
    rows = re.findall(r"<tr><td><a href=\"/cases/\d+\">", html)
    assert len(rows) == 1 and "王五与赵六" not in html
    # the filters narrow the list and go back to the dashboard with it
    other = unit_id("T02")
    html = client.get(f"/dashboard/cases?figure=received&township_id={other}").get_data(as_text=True)
    assert "王五与赵六" not in html and f"township_id={other}" in html
    assert client.get("/dashboard/cases?figure=nonsense").status_code == 404


def test_a_township_sees_its_own_cases_and_a_department_without_the_right_is_refused(login_as, make_case):
    make_case(until=None)                                      # 城关镇
    make_case(until="handle", title="东城街道的纠纷", township_id=unit_id("T02"), village_id=unit_id("T02V01"))
    html = login_as("xiang").get("/dashboard/cases?figure=received").get_data(as_text=True)
    assert "东城街道的纠纷" not in html and len(re.findall(r'<a href="/cases/\d+">', html)) == 1
    client = login_as("sifa")                                  # a department's handler
    before = row_counts()
    for path in ("/dashboard/", "/dashboard/cases?figure=received"):
        resp = client.get(path)
        assert resp.status_code in (302, 403) and "东城街道的纠纷" not in resp.get_data(as_text=True), path
    assert row_counts() == before
