"""The director's dashboard in a real browser: the figures, and the four ECharts charts drawn from the
portal's own copy of ECharts (canvas present); no request leaves the portal."""
from __future__ import annotations

from pathlib import Path

from tests.browser.test_chain import login

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_the_dashboard_draws_its_figures_and_charts(page, make_case):
    SHOTS.mkdir(exist_ok=True)
    make_case(until=None)               # one case closed
    make_case(until="handle")           # one under way
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(page.live_url) else None)
    login(page, "director")
    page.goto(page.live_url + "/dashboard/")
    page.wait_for_selector("#charts[data-ready='1']")
    for chart in ("monthly", "deadline", "category", "township"):
        assert page.locator(f"#chart-{chart}[data-drawn='1'] canvas").count() >= 1, chart
    assert page.evaluate("echarts.getInstanceByDom(document.getElementById('chart-monthly'))"
                         ".getOption().series[0].data.reduce((a, b) => a + b, 0)") == 2  # two cases received
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)
    assert outside == []
