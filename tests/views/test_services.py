"""社会服务 on the case page: the form round trip, the panel with its totals, refusals shown in Chinese."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.clock import utcnow
from portal.extensions import db
from portal.models import Party, PartyKind
from tests.conftest import row_counts


def _county_now() -> datetime:
    return utcnow().replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)


def service_form(case_id: int, **overrides) -> dict:
    applicant = db.session.scalar(select(Party.id).where(Party.case_id == case_id,
                                                          Party.kind == PartyKind.APPLICANT))
    served_at = _county_now()   # the case was registered moments ago
    return {"party_id": str(applicant), "person_name": "", "service_type": "counselling",
            "provider_kind": "social_work", "provider": "县阳光社会工作服务中心", "worker": "陈静（社工）",
            "served_at": served_at.strftime("%Y-%m-%dT%H:%M"), "duration_minutes": "90", "persons": "1",
            "result": "申请人情绪平复，同意继续调解", **overrides}


def test_the_handling_unit_records_services_and_the_panel_shows_them_with_totals(login_as, make_case):
    case_id = make_case(until="handle")
    client = login_as("sifa")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "社会服务" in page and 'id="record-service"' in page and "尚未记录服务" in page
    form_page = client.get(f"/cases/{case_id}/service").get_data(as_text=True)
    assert 'id="action-form"' in form_page and "张三（申请人）" in form_page and 'name="result"' in form_page
    resp = client.post(f"/cases/{case_id}/service", data=service_form(case_id))
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/cases/{case_id}#services")
    resp = client.post(f"/cases/{case_id}/service", data=service_form(
        case_id, party_id="", person_name="张小花", service_type="companionship", provider_kind="volunteer",
        provider="城关镇巾帼志愿服务队", worker="刘芳、何丽", duration_minutes="45", persons="2",
        result="陪同申请人之母到医院复查"))
    assert resp.status_code == 302
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    totals = page[page.index('id="service-totals"'):page.index('id="service-list"')]
    assert "<strong>2</strong>" in totals and "<strong>3</strong>" in totals and "2 小时 15 分钟" in totals
    assert "心理疏导" in page and "陪伴" in page and "城关镇巾帼志愿服务队" in page and "张小花" in page
    assert "陪同申请人之母到医院复查" in page


def test_a_refused_service_is_shown_again_in_chinese_and_saves_nothing(login_as, make_case):
    case_id = make_case(until="handle")
    client = login_as("sifa")
    before = row_counts()
    later = (_county_now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    resp = client.post(f"/cases/{case_id}/service", data=service_form(case_id, served_at=later))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "服务时间须在案件登记之后、当前时间之前" in html
    assert "县阳光社会工作服务中心" in html                                     # kept as typed
    resp = client.post(f"/cases/{case_id}/service", data=service_form(case_id, party_id="", person_name=""))
    assert resp.status_code == 400 and "请选择服务对象" in resp.get_data(as_text=True)
    assert row_counts() == before


def test_who_may_not_record_gets_no_button_and_a_refusal(login_as, make_case):
    case_id = make_case(until="handle")
    for username in ("xiang", "director"):
        client = login_as(username)
        page = client.get(f"/cases/{case_id}").get_data(as_text=True)
        assert 'id="record-service"' not in page and 'id="service-list"' not in page, username
        before = row_counts()
        resp = client.post(f"/cases/{case_id}/service", data=service_form(case_id))
        assert resp.status_code == 403, username
        assert row_counts() == before
