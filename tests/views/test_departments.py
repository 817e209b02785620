"""The handling page of a stationed department asks for that department's own fields."""
from __future__ import annotations

from portal.extensions import db
from portal.models import Case
from portal.services.cases import complete_task, register_case
from portal.services.departments import DEPARTMENT_SPECS
from tests.conftest import STEP_FORMS, do_step, intake_data, open_item, record_session, row_counts, unit_id, user

LABOUR = {"employer_name": "示范县宏达建筑劳务有限公司", "wages_owed": "86000", "months_owed": "4",
          "workers_involved": "12", "labour_route": "inspection"}


def _labour_case() -> int:
    case_id = register_case(user("window"), intake_data(title="王五等12人追讨欠薪")).id
    do_step(case_id, "triage")
    do_step(case_id, "dispatch", assigned_unit_id=unit_id("D06"))
    complete_task(user("renshe"), open_item(case_id, "accept").id, {"accepted": "yes"})
    record_session(case_id, "renshe", mediators="人社局调解员 何平")
    return case_id


def _handle_form(**overrides) -> dict:
    form = {k: v for k, v in STEP_FORMS["handle"][1]().items() if v is not False}   # unticked boxes are not sent
    form["agreement_date"] = form["agreement_date"].isoformat()
    form["applicant_signed"] = form["respondent_signed"] = "y"
    return {**form, **overrides}


def test_labour_handling_page_asks_for_the_labour_fields(app, login_as, ctx):
    case_id = _labour_case()
    item = open_item(case_id, "handle")
    client = login_as("renshe")
    with app.test_request_context():
        labels = {f.name: str(f.label) for f in DEPARTMENT_SPECS["D06"].fields}
    html = client.get(f"/cases/task/{item.id}").get_data(as_text=True)
    for name, label in labels.items():
        assert f'name="{name}"' in html and label in html, name
    assert 'value="arbitration"' in html and 'value="inspection"' in html

    before = row_counts()
    resp = client.post(f"/cases/task/{item.id}", data=_handle_form(process_notes="已责令限期支付"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "已责令限期支付" in html and "未保存" in html                  # kept as typed, nothing saved
    assert html.split('name="employer_name"')[1].split("</div>")[0].count("field-error") == 1
    assert row_counts() == before and db.session.get(Case, case_id).dept_details is None

    resp = client.post(f"/cases/task/{item.id}", data=_handle_form(**{**LABOUR, "wages_owed": "八万六"}))
    assert resp.status_code == 400 and row_counts() == before

    resp = client.post(f"/cases/task/{item.id}", data=_handle_form(**LABOUR))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    db.session.expire_all()
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    block = page.split('id="dept-details"')[1].split("</table>")[0]
    assert "示范县宏达建筑劳务有限公司" in block and "86000.00" in block and labels["wages_owed"] in block


def test_a_justice_bureau_case_keeps_the_common_form(login_as, make_case):
    """司法局 asks nothing more that is required, so the common handling data still completes the step."""
    case_id = make_case(until="handle")
    html = login_as("sifa").get(f"/cases/task/{open_item(case_id, 'handle').id}").get_data(as_text=True)
    assert 'name="agreement_no"' in html and 'name="employer_name"' not in html
