"""The process heat map in a real browser: the director opens it, the diagram draws with the busiest
step coloured, marked overdue and badged with its figures; clicking the step lists its cases, linked
to their pages. Nothing is loaded from outside the portal (the ``page`` fixture checks it)."""
from __future__ import annotations

from datetime import timedelta

from portal.extensions import db
from portal.models import Case
from tests.browser.test_chain import SHOTS, login
from tests.conftest import open_item


def test_the_director_sees_where_cases_wait_and_lists_them(page, make_case):
    SHOTS.mkdir(exist_ok=True)
    late, waiting = make_case(until="dispatch"), make_case(until="dispatch", title="王五与赵六排水纠纷")
    make_case(until="accept")
    item = open_item(late, "dispatch")
    item.due_at = item.created_at - timedelta(hours=1)   # past its deadline
    db.session.commit()
    codes = {db.session.get(Case, case_id).code: case_id for case_id in (late, waiting)}

    login(page, "director")
    page.click("text=分析汇总")
    page.click("text=流程热力图")
    page.wait_for_selector("#heatmap-diagram[data-ready='1']")
    dispatch = page.locator("#heatmap-diagram g.djs-element[data-element-id='dispatch']")
    assert {"heat-4", "heat-overdue"} <= set(dispatch.get_attribute("class").split())   # the busiest, one late
    accept = page.locator("#heatmap-diagram g.djs-element[data-element-id='accept']")
    assert "heat-2" in accept.get_attribute("class").split() and "heat-overdue" not in accept.get_attribute("class")
    badge = page.inner_text(".heat-badge[data-step='dispatch']")
    assert "等待 2" in badge and "超期 1" in badge
    times = page.locator(".heat-times[data-step='dispatch']").text_content()   # shown once zoomed in
    assert "平均0.0小时" in times and "九成0.0小时内" in times
    assert page.locator(".heat-badge[data-step='close']").count() == 0     # nothing there, nothing done there
    page.locator("#heatmap-diagram").screenshot(path=str(SHOTS / "heatmap.png"))
    assert not page.locator(".heat-times[data-step='dispatch']").is_visible()
    box = dispatch.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.keyboard.down("Control")
    for _ in range(8):
        page.mouse.wheel(0, -120)   # ctrl + wheel zooms the diagram in, around the pointer
    page.keyboard.up("Control")
    page.wait_for_selector(".heat-times[data-step='dispatch']", state="visible")
    page.locator("#heatmap-diagram").screenshot(path=str(SHOTS / "heatmap_zoomed.png"))

    dispatch.click()
    page.wait_for_selector("#step-case-list[data-step='dispatch']")
    assert "heat-selected" in dispatch.get_attribute("class").split()
    rows = page.locator("#step-case-list tbody tr")
    assert rows.count() == 2 and "分流交办" in page.inner_text("#step-cases-title")
    assert "超期" in rows.nth(0).inner_text()          # the late one first
    assert "step=dispatch" in page.url
    page.screenshot(path=str(SHOTS / "heatmap_step_cases.png"), full_page=True)
    code = next(c for c, case_id in codes.items() if case_id == waiting)
    page.click(f"#step-case-list a:text('{code}')")
    page.wait_for_url(f"**/cases/{waiting}")
    assert "王五与赵六排水纠纷" in page.inner_text("body")
