"""The QR codes the portal draws are read by a phone's scanner: case codes of every shape a county issues, and
the tracking links of the public pages, each drawn by the browser and decoded by zbar."""
from __future__ import annotations

from portal.views.qr import qr_svg
from tests.browser.qrread import read_qr

TEXTS = [f"MT{year}{n:06d}" for year in (2025, 2026, 2027) for n in (1, 7, 42, 999, 12345, 99999, 100000, 999999)] + \
        [f"http://10.12.0.8:8080/public/track?code=MT2026{n:06d}" for n in (1, 3456, 789012)]


def test_every_code_and_link_drawn_is_read_back_by_a_scanner(page):
    page.set_content("".join(f'<div class="qr" style="display:inline-block;padding:4px">{qr_svg(t)}</div>'
                             for t in TEXTS))
    drawn = page.locator("div.qr svg")
    assert drawn.count() == len(TEXTS)
    assert [read_qr(drawn.nth(i).screenshot()) for i in range(len(TEXTS))] == TEXTS


def test_nothing_is_drawn_for_a_case_without_a_code():
    assert qr_svg("") == "" and qr_svg(None) == ""
