"""The process heat map's page: the diagram's data, the step table, the legend, the filters, the
JSON of the figures, and a step's list of cases."""
from __future__ import annotations

import json
import re

from portal.extensions import db
from portal.models import Case
from tests.conftest import open_item, unit_id


def _cases(make_case) -> dict[str, int]:
    """Two cases of 城关镇 and one of T02 waiting at dispatch; one of 城关镇 dispatched to 司法局."""
    return {"d1": make_case(until="dispatch"), "d2": make_case(until="dispatch"),
            "d3": make_case(until="dispatch", township_id=unit_id("T02"), village_id=None, title="乙镇土地流转纠纷"),
            "a1": make_case(until="accept", title="王五与赵六排水纠纷")}


def _row(page: str, step: str) -> dict[str, str]:
    row = re.search(rf'<tr id="step-{step}".*?</tr>', page, re.S).group(0)
    return {name: re.sub(r"<[^>]+>", "", value).strip()
            for name, value in re.findall(r'<td class="(\w+)">(.*?)</td>', row, re.S)}


def _code(case_id: int) -> str:
    return db.session.get(Case, case_id).code


def test_the_page_draws_the_diagram_and_tables_each_steps_figures(login_as, make_case):
    _cases(make_case)
    page = login_as("director").get("/dashboard/heatmap/").get_data(as_text=True)
    assert "流程热力图" in page and 'href="/dashboard/heatmap/"' in page          # in the menu, under 分析汇总
    assert 'id="heatmap-diagram"' in page and "bpmn-navigated-viewer.production.min.js" in page
    data = json.loads(re.search(r'<script type="application/json" id="heatmap-data">(.*?)</script>', page,
                                re.S).group(1))
    assert 'id="dispatch"' in data["xml"]
    assert _row(page, "dispatch") == {"waiting": "3", "overdue": "0", "done": "1", "avg": "0.0小时", "p90": "0.0小时"}
    assert _row(page, "handle") == {"waiting": "0", "overdue": "0", "done": "0", "avg": "—", "p90": "—"}
    assert _row(page, "accept")["waiting"] == "1"
    assert _row(page, "triage") == {"waiting": "0", "overdue": "0", "done": "4", "avg": "0.0小时", "p90": "0.0小时"}
    legend = re.search(r'<p id="heatmap-legend">(.*?)</p>', page, re.S).group(1)
    assert "当前等待案件数" in legend and "有超期案件" in legend
    # the busiest step has 3 waiting: a quarter of the colours each, 1 → level 2 (ceil 4·1/3), 2 → 3, 3 → 4
    assert re.findall(r'swatch level-(\d)"></span>([\d–]+)', legend) == [("2", "1"), ("3", "2"), ("4", "3")]
    town = login_as("director").get(f"/dashboard/heatmap/?township_id={unit_id('T01')}").get_data(as_text=True)
    assert _row(town, "dispatch")["waiting"] == "2" and _row(town, "triage")["done"] == "3"


def test_the_figures_as_json_for_each_process(login_as, make_case):
    cases = _cases(make_case)
    client = login_as("dispatch")
    data = client.get("/dashboard/heatmap/stats").get_json()
    steps = {s["bpmn_id"]: s for s in data["steps"]}
    assert data["process"] == "mediation_chain" and "<bpmn:definitions" in data["xml"]
    assert (steps["dispatch"]["waiting"], steps["dispatch"]["level"], steps["accept"]["level"]) == (3, 4, 2)
    open_item(cases["d1"], "dispatch").due_at = db.session.get(Case, cases["d1"]).registered_at
    db.session.commit()
    steps = {s["bpmn_id"]: s for s in client.get("/dashboard/heatmap/stats").get_json()["steps"]}
    assert steps["dispatch"]["overdue"] == 1
    relief = client.get("/dashboard/heatmap/stats?process=temporary_relief").get_json()
    assert "relief_investigate" in {s["bpmn_id"] for s in relief["steps"]}
    assert sum(s["waiting"] for s in relief["steps"]) == 0
    assert client.get("/dashboard/heatmap/stats?process=nothing").status_code == 404


def test_the_period_narrows_the_dwell_times_only(login_as, make_case):
    _cases(make_case)
    client = login_as("verify")

    def triage(query: str) -> dict:
        return {s["bpmn_id"]: s for s in client.get(f"/dashboard/heatmap/stats?{query}").get_json()["steps"]}

    assert triage("")["triage"]["done"] == 4                   # the last 90 days
    assert triage("start=2099-01-01")["triage"]["done"] == 0    # nothing completed yet then
    future = triage("start=2099-01-01")
    assert future["dispatch"]["waiting"] == 3                   # waiting is now, whatever the period
    assert triage("start=&end=")["triage"]["done"] == 4         # no bounds
    assert triage("start=2000-01-01&end=2000-12-31")["triage"]["done"] == 0
    assert triage("start=garbage")["triage"]["done"] == 4       # unreadable: the default period


def test_a_step_lists_its_waiting_cases_linked_to_their_pages(login_as, make_case):
    cases = _cases(make_case)
    client = login_as("director")
    page = client.get("/dashboard/heatmap/?step=dispatch").get_data(as_text=True)
    listed = re.search(r'<table class="table table-condensed table-striped" id="step-case-list".*?</table>', page,
                       re.S).group(0)
    assert "在“分流交办”环节等待办理的案件" in page
    for key in ("d1", "d2", "d3"):
        assert f'href="/cases/{cases[key]}"' in listed and _code(cases[key]) in listed
    assert _code(cases["a1"]) not in listed
    fragment = client.get("/dashboard/heatmap/cases?step=accept").get_data(as_text=True)
    assert "<html" not in fragment and _code(cases["a1"]) in fragment and "司法局" in fragment
    assert f'href="/cases/{cases["a1"]}"' in fragment and _code(cases["d1"]) not in fragment
    t02 = client.get(f"/dashboard/heatmap/cases?step=dispatch&township_id={unit_id('T02')}").get_data(as_text=True)
    assert _code(cases["d3"]) in t02 and _code(cases["d1"]) not in t02
    empty = client.get("/dashboard/heatmap/cases?step=close").get_data(as_text=True)
    assert "本环节暂无等待办理的案件" in empty


def test_the_menu_shows_the_heat_map_to_the_centers_staff_only(login_as):
    assert "/dashboard/heatmap/" in login_as("verify").get("/worklist/").get_data(as_text=True)
    assert "/dashboard/heatmap/" not in login_as("sifa").get("/worklist/").get_data(as_text=True)
