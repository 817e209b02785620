"""Every list to Excel and CSV, opened back: the headers in Chinese, the rows the page shows (its filters and
the reader's scope), times in the county's time, numbers as numbers; the scorecard and monthly-report pages."""
from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Case, WorkItem
from portal.services.branches import start_branch
from tests.branches.test_relief import application as relief_application
from tests.branches.test_risk import opened as risk_file
from tests.conftest import open_item, unit_id, user
from tests.services.test_monthly_report import build_cases
from tests.services.test_scorecards import build_march

FULL_ID = "11010519491231002X"


@pytest.fixture
def march(ctx):
    return build_march()


@pytest.fixture
def cases(ctx):
    return build_cases()


def sheet_rows(resp) -> list[tuple]:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert resp.headers["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    return list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))


def csv_rows(resp) -> list[list[str]]:
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.data.startswith("\ufeff".encode())   # the byte-order mark Excel needs for UTF-8
    return list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))


def table(rows, first_column: str) -> dict:
    """Rows keyed by the value of their first column, with the header row as "header"."""
    header = next(i for i, r in enumerate(rows) if r and r[0] == first_column)
    return {"header": rows[header], **{r[0]: dict(zip(rows[header], r, strict=False)) for r in rows[header + 1:]
                                       if r and r[0]}}


def _exports() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "export"))


# -- scorecards ----------------------------------------------------------------------------------------

def test_the_scorecards_page_ranks_and_shows_the_formula_with_the_weights(login_as, march):
    page = login_as("director").get("/dashboard/scorecards/?start=2026-03-01&end=2026-03-31").get_data(as_text=True)
    rows = page.split('id="scorecards"')[1].split("</table>")[0]
    assert rows.index("城关镇") < rows.index("县司法局") < rows.index("县人力资源和社会保障局")
    assert "60.50" in rows and "97.00" in rows and "-2.00" in rows and "75.0%" in rows and "3/4" in rows
    formula = page.split('id="score-formula"')[1]
    assert "40 × 按期办结率" in formula and "5 × 红牌督办" in formula and 'id="set-weights"' not in formula
    assert 'id="set-weights"' in login_as("admin").get("/dashboard/scorecards/").get_data(as_text=True)
    assert login_as("director").get("/dashboard/scorecards/?start=2026-03-31&end=2026-03-01").status_code == 400


def test_the_scorecards_to_excel_and_csv(login_as, march):
    client = login_as("director")
    query = "start=2026-03-01&end=2026-03-31"
    rows = table(sheet_rows(client.get(f"/dashboard/scorecards/export?format=xlsx&{query}")), "名次")
    assert rows["header"][:6] == ("名次", "考核单位", "单位类别", "办理数", "办结数", "办结率")
    d03 = rows[2]
    assert (d03["考核单位"], d03["办理数"], d03["办结数"], d03["红牌督办"], d03["核查退回"]) == ("县司法局", 4, 3, 1, 1)
    assert d03["办结率"] == 0.75 and d03["得分"] == 60.5 and rows[3]["拒收退回"] == 1
    text = csv_rows(client.get(f"/dashboard/scorecards/export?format=csv&{query}"))
    by_rank = table(text, "名次")
    assert by_rank["1"]["考核单位"] == "城关镇"
    assert (by_rank["2"]["办结率"], by_rank["2"]["得分"]) == ("75.0%", "60.50")
    assert any("2026-03-01" in line[0] for line in text if line)       # the note says what was counted
    assert _exports() == 2


def test_a_unit_leader_exports_only_what_the_unit_may_see(login_as, march):
    rows = table(sheet_rows(login_as("sifalead").get(
        "/dashboard/scorecards/export?format=xlsx&start=2026-03-01&end=2026-03-31")), "名次")
    # not 城关镇's own cases, which 司法局 never held
    assert {r["考核单位"] for k, r in rows.items() if isinstance(k, int)} == {"县司法局", "县人力资源和社会保障局"}


def test_an_unknown_format_is_refused_and_nothing_is_recorded(login_as, make_case):
    make_case(until="handle")
    client = login_as("director")
    for url in ("/dashboard/scorecards/export?format=pdf", "/worklist/export?format=doc",
                "/worklist/export?tab=nope&format=xlsx", "/branches/export?format=x",
                "/branches/risk/export?format=pdf", "/dashboard/monthly/export?format=doc"):
        assert client.get(url).status_code == 400, url
    assert _exports() == 0


# -- the worklist --------------------------------------------------------------------------------------

def test_the_units_cases_to_excel_with_local_times_and_numbers(login_as, make_case):
    case_id = make_case(until="handle", at=datetime(2026, 3, 2, 1, 0))
    case = db.session.get(Case, case_id)
    rows = table(sheet_rows(login_as("dispatch").get("/worklist/export?tab=unit&format=xlsx")), "案件编号")
    row = rows[case.code]
    assert rows["header"][:4] == ("案件编号", "案由", "纠纷类型", "乡镇（街道）")
    assert row["登记时间"] == datetime(2026, 3, 2, 9, 0)                 # 01:00 UTC is 09:00 in the county
    assert row["办理时限"] == datetime(2026, 3, 5, 23, 59, 59)           # the end of the third day
    assert row["争议金额（元）"] == 5000 and row["结案日期"] is None
    assert (row["当事人"], row["身份证号"]) == ("张三、李四", FULL_ID + "、")   # the dispatcher sees them in full


def test_the_verifier_gets_masked_personal_data_in_both_formats(login_as, make_case):
    make_case(until="verify")
    client = login_as("verify")
    for fmt in ("xlsx", "csv"):
        resp = client.get(f"/worklist/export?tab=unit&format={fmt}")
        content = str(sheet_rows(resp)) if fmt == "xlsx" else resp.data.decode("utf-8-sig")
        assert "张三" in content and FULL_ID not in content and "13800138000" not in content
    assert all('"unmasked": false' in d for d in db.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "export")))


def test_each_worklist_tab_exports_its_own_items(login_as, make_case):
    case_id = make_case(until="handle")
    code = db.session.get(Case, case_id).code
    client = login_as("sifa")
    todo = table(sheet_rows(client.get("/worklist/export?tab=todo&format=xlsx")), "案件编号")
    assert todo[code]["环节"] == open_item(case_id, "handle").name
    done = table(sheet_rows(client.get("/worklist/export?tab=done&format=xlsx")), "案件编号")
    assert done[code]["环节"] == db.session.scalar(select(WorkItem.name).where(   # the acceptance sifa completed
        WorkItem.case_id == case_id, WorkItem.form_key == "accept"))
    assert table(sheet_rows(client.get("/worklist/export?tab=todo&format=xlsx&code=NOPE")), "案件编号").keys() == \
        {"header"}
    assert code not in table(sheet_rows(login_as("renshe").get("/worklist/export?tab=unit&format=xlsx")), "案件编号")


def test_text_that_looks_like_a_formula_stays_text(login_as, make_case):
    case_id = make_case(until="handle", title='=HYPERLINK("http://x","点我")')
    code = db.session.get(Case, case_id).code
    client = login_as("director")
    book = load_workbook(io.BytesIO(client.get("/worklist/export?tab=unit&format=xlsx").data)).active
    cell = next(r[1] for r in book.iter_rows() if r[0].value == code)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    text = table(csv_rows(client.get("/worklist/export?tab=unit")), "案件编号")
    assert text[code]["案由"].startswith("'=HYPERLINK")


# -- the ledgers ---------------------------------------------------------------------------------------

def test_the_assistance_ledger_to_excel_with_its_filters_and_scope(login_as, make_case):
    case_id = make_case(until="handle")
    branch = start_branch(user("window"), case_id, "relief", relief_application(case_id))
    code = db.session.get(Case, case_id).code
    client = login_as("director")
    rows = table(sheet_rows(client.get("/branches/export?format=xlsx")), "编号")
    row = rows[branch.number]
    assert (row["类别"], row["当事人"], row["案件"], row["申请金额（元）"]) == ("临时救助", "张三", code, 5000)
    assert table(sheet_rows(client.get("/branches/export?format=xlsx&kind=legal_aid")), "编号").keys() == {"header"}
    assert branch.number in table(csv_rows(client.get("/branches/export?format=csv&kind=relief")), "编号")
    assert table(sheet_rows(login_as("renshe").get("/branches/export?format=xlsx")), "编号").keys() == {"header"}


def test_the_risk_ledger_to_excel_with_its_filters_and_scope(login_as, make_case):
    case_id = make_case(until="handle")
    risk_file(case_id)
    code = db.session.get(Case, case_id).code
    for who in ("director", "xiang"):
        rows = table(sheet_rows(login_as(who).get("/branches/risk/export?format=xlsx")), "当事人")
        assert rows["张三"]["案件"] == code and rows["张三"]["风险等级"] == "高"
        assert rows["张三"]["稳控责任人"] == "王建国（乡党委副书记）"
    client = login_as("director")
    assert table(sheet_rows(client.get("/branches/risk/export?format=xlsx&state=resolved")), "当事人").keys() == \
        {"header"}
    assert table(sheet_rows(client.get(f"/branches/risk/export?format=xlsx&township_id={unit_id('T02')}")),
                 "当事人").keys() == {"header"}
    assert "张三" in table(csv_rows(client.get("/branches/risk/export?format=csv&state=open")), "当事人")
    assert table(sheet_rows(login_as("renshe").get("/branches/risk/export?format=xlsx")), "当事人").keys() == \
        {"header"}


# -- the monthly report --------------------------------------------------------------------------------

def test_the_monthly_report_pages_for_the_center_and_a_township(login_as, cases):
    page = login_as("director").get("/dashboard/monthly/?month=2026-03").get_data(as_text=True)
    total = page.split('id="report-total"')[1].split("</tr>")[0]
    assert "<td>5</td><td>2</td><td>1</td><td>40.0%</td><td>50.0%</td>" in total.replace("\n", "").replace(" ", "")
    assert 'name="township_id"' in page
    page = login_as("xiang").get(f"/dashboard/monthly/?month=2026-03&township_id={unit_id('T02')}") \
        .get_data(as_text=True)
    assert "城关镇" in page and 'name="township_id"' not in page
    client = login_as("director")
    resp = client.get("/dashboard/monthly/pdf?month=2026-03")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    rows = table(sheet_rows(client.get("/dashboard/monthly/export?month=2026-03")), "纠纷类别")
    assert rows["合计"]["调处率"] == pytest.approx(0.4)
    assert login_as("director").get("/dashboard/monthly/?month=2026-13").status_code == 400




def test_headers_are_chinese_for_a_reader_of_the_english_pages(login_as, make_case):
    make_case(until="handle")
    client = login_as("dispatch")
    client.get("/lang/en")
    assert "Case code" in client.get("/worklist/unit").get_data(as_text=True)
    rows = sheet_rows(client.get("/worklist/export?tab=unit&format=xlsx"))
    assert rows[0][0] == "案件编号" and rows[1][4] == "办理中"   # the status label too
