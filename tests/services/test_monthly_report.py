"""The monthly 矛盾纠纷排查调处情况表 of March 2026 over hand-built cases: counted by category and tier, for
the county and for a township, as a PDF and as Excel."""
from __future__ import annotations

import io
import subprocess
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.clock import frozen_at
from portal.extensions import db
from portal.models import DisputeType
from portal.services.cases import register_case
from portal.services.errors import ValidationFailed
from portal.services.monthly_report import (
    export_monthly_report,
    monthly_report,
    parse_month,
    print_monthly_report,
    report_township,
)
from tests.conftest import intake_data, unit_id, user
from tests.pdfcheck import cjk_font_embedded, pdf_pages, pdf_text
from tests.services.test_scorecards import T0, case_of

TIERS = ("simple", "general", "complex", "difficult", None)


def type_id(code: str) -> int:
    return db.session.scalar(select(DisputeType.id).where(DisputeType.code == code))


@pytest.fixture
def cases(ctx):
    return build_cases()


def build_cases() -> dict[str, int]:
    """房屋宅基地 (03): c1 general, registered and agreed in March; c2 complex, registered in March, still being
    handled; c4 general, registered in March, agreed in April; c5 sent to labour arbitration at the window
    (never triaged); c6 in 东城街道 (T02), registered in March, not yet triaged.
    劳动争议 (07): c3 simple, registered in February, mediation ended without agreement in March."""
    return {
        "c1": case_of("D03", "sifa"),
        "c2": case_of("D03", "sifa", tier="complex", until="handle"),
        "c3": case_of("D03", "sifa", tier="simple", at=T0 - timedelta(days=20), close_at=T0 + timedelta(days=2),
                      result="terminated", dispute_type_id=type_id("0701")),
        "c4": case_of("D03", "sifa", close_at=datetime(2026, 4, 2, 2, 0)),
        "c5": _registered(route="labour_arbitration"),
        "c6": _registered(township_id=unit_id("T02"), village_id=None),
    }


def _registered(**intake) -> int:
    with frozen_at(T0):
        return register_case(user("window"), intake_data(**intake)).id


def _cells(row) -> dict:
    return {t: (c.registered, c.handled, c.success) for t, c in row.by_tier.items() if (c.registered, c.handled,
                                                                                         c.success) != (0, 0, 0)}


def test_the_county_report_counts_by_category_and_tier(cases):
    report = monthly_report(user("director"), 2026, 3)
    rows = {r.code: r for r in report.rows}
    assert [r.code for r in report.rows] == sorted(rows) and len(rows) == 19   # every level-1 category
    #                  排查 调处 成功
    assert _cells(rows["03"]) == {"general": (2, 1, 1), "complex": (1, 0, 0), None: (2, 0, 0)}
    assert _cells(rows["07"]) == {"simple": (0, 1, 0)}
    assert all(_cells(r) == {} for code, r in rows.items() if code not in ("03", "07"))
    total = report.total.total
    assert (total.registered, total.handled, total.success) == (5, 2, 1)
    assert (total.handling_rate, total.success_rate) == (Decimal("0.4"), Decimal("0.5"))
    assert _cells(report.total) == {"simple": (0, 1, 0), "general": (2, 1, 1), "complex": (1, 0, 0), None: (2, 0, 0)}
    april = monthly_report(user("director"), 2026, 4).total.total
    assert (april.registered, april.handled, april.success) == (0, 1, 1)


def test_a_township_report_and_a_township_always_gets_its_own(cases):
    t01 = monthly_report(user("director"), 2026, 3, unit_id("T01"))
    assert t01.area == "城关镇" and _cells(t01.total)[None] == (1, 0, 0)      # c6 lies in 东城街道
    t02 = monthly_report(user("director"), 2026, 3, unit_id("T02"))
    assert _cells(t02.total) == {None: (1, 0, 0)}
    for asked in (None, unit_id("T02")):                                       # 城关镇's staff: 城关镇 only
        report = monthly_report(user("xiang"), 2026, 3, asked)
        assert report.township.code == "T01" and _cells(report.total) == _cells(t01.total)
    assert report_township(user("director"), None) is None
    with pytest.raises(ValidationFailed):
        report_township(user("director"), unit_id("D03"))


def test_the_pdf_prints_the_figures_in_a_landscape_form_with_the_chinese_font(cases):
    pdf, name = print_monthly_report(user("director"), 2026, 3)
    assert name == "示范县矛盾纠纷排查调处情况表-2026年3月.pdf"
    text = pdf_text(pdf)
    assert "矛盾纠纷排查调处情况表" in text and "2026年3月" in text and "示范县矛盾纠纷调处化解中心" in text
    assert "简单" in text and "疑难" in text and "未定级" in text and "调处率" in text and "说明" in text
    lines = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.split()}
    # 简单 一般 复杂 疑难 未定级 (排查 调处 成功 each), then 排查 调处 成功 调处率 成功率
    assert lines["房屋宅基地"] == ["0", "0", "0", "2", "1", "1", "1", "0", "0", "0", "0", "0", "2", "0", "0",
                              "5", "1", "1", "20.0%", "100.0%"]
    assert lines["劳动争议"][:3] == ["0", "1", "0"] and lines["劳动争议"][-5:] == ["0", "1", "0", "—", "0.0%"]
    assert lines["合计"][-5:] == ["5", "2", "1", "40.0%", "50.0%"]
    assert cjk_font_embedded(pdf)
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    size = next(line for line in info.splitlines() if line.startswith("Page size"))
    width, height = (float(v) for v in size.split(":")[1].split("pts")[0].split(" x "))
    assert width > height and pdf_pages(pdf) == 1   # landscape, on one sheet


def test_the_excel_has_the_grouped_header_and_numbers(cases):
    export = export_monthly_report(user("director"), 2026, 3, None, "xlsx")
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][1:5] == ("简单", None, None, "一般") and rows[0][16] == "合计"
    assert "B1:D1" in {str(r) for r in sheet.merged_cells.ranges}
    assert rows[1][:4] == ("纠纷类别", "排查", "调处", "成功") and rows[1][-2:] == ("调处率", "成功率")
    by_name = {r[0]: r for r in rows[2:] if r[0]}
    assert by_name["房屋宅基地"][1:16] == (0, 0, 0, 2, 1, 1, 1, 0, 0, 0, 0, 0, 2, 0, 0)
    assert by_name["合计"][16:] == (5, 2, 1, pytest.approx(0.4), pytest.approx(0.5))
    total_row = next(r for r in sheet.iter_rows() if r[0].value == "合计")
    assert total_row[19].number_format == "0.0%" and total_row[1].data_type == "n"
    assert export.filename.endswith(".xlsx")


def test_a_month_is_read_from_the_page(ctx):
    assert parse_month("2026-03") == (2026, 3)
    for bad in ("2026-13", "March", "2026"):
        with pytest.raises(ValidationFailed):
            parse_month(bad)
