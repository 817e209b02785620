"""Each document of people's mediation, rendered for a case and read back from the PDF."""
from __future__ import annotations

import json
import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from portal.clock import frozen_at
from portal.extensions import db
from portal.models import AuditEvent, Case, Investigation, Party, PartyKind
from portal.services.confirmation import apply_for_confirmation
from portal.services.deadlines import local_today
from portal.services.documents import DOCUMENTS, document, load_case_file
from portal.services.documents.render import document_html
from tests.conftest import AGREEMENT, do_step, record_session, user
from tests.pdfcheck import cjk_font_embedded, pdf_pages, pdf_text

T0 = datetime(2026, 3, 2, 1, 0)  # 2026-03-02 09:00 in the county
ID_NUMBER, ID_MASKED = "11010519491231002X", "110***********002X"
NUMBER = "（2026）人调协字第1号"


def _squash(text: str) -> str:
    """PDF text without the spaces and line breaks layout puts between characters."""
    return re.sub(r"\s+", "", text)


def _get(client, case_id, key):
    response = client.get(f"/cases/{case_id}/documents/{key}")
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "application/pdf"
    return response.data


def _text(client, case_id, key) -> str:
    pdf = _get(client, case_id, key)
    assert cjk_font_embedded(pdf)
    return _squash(pdf_text(pdf, raw=True))


def _case_file(case_id: int, masked: bool = False):
    return load_case_file(db.session.get(Case, case_id), masked=masked, today=local_today())


def _complete_parties(case_id: int) -> None:
    """Give the parties what the intake does not ask (民族, 职业) and the respondent an ID number."""
    for p in db.session.scalars(select(Party).where(Party.case_id == case_id)):
        p.ethnicity, p.occupation = "汉族", "农民"
        if p.kind == PartyKind.RESPONDENT:
            p.id_number = "110105197001010011"
    db.session.commit()


def _investigation(case_id: int, seq: int, **overrides) -> Investigation:
    row = Investigation(case_id=case_id, seq=seq, held_at=datetime(2026, 3, 1, 6, 30), place="文庙社区二组现场",
                        investigators="王明", recorder="赵丽", subject="王五",
                        subject_info="男，62岁，二组村民，张三、李四的邻居", present="社区网格员刘强",
                        matter="核实宅基地老界址位置",
                        content="问：你知道两家原来的界址在哪里吗？\n答：老界址在两家之间的石头桩子那里，几十年没有变过。",
                        recorded_by_id=user("sifa").id, recorded_at=datetime(2026, 3, 1, 7, 0))
    for key, value in overrides.items():
        setattr(row, key, value)
    db.session.add(row)
    db.session.commit()
    return row


def test_registration_form(login_as, make_case):
    case_id = make_case(until="verify")
    text = _text(login_as("sifa"), case_id, "registration")
    assert "人民调解受理登记表" in text
    assert "张三" in text and "李四" in text
    assert "来访" in text  # the source channel, in Chinese


def test_application_unmasked_for_the_handler(login_as, make_case):
    case_id = make_case(until="verify")
    text = _text(login_as("sifa"), case_id, "application")
    assert "人民调解申请书" in text
    assert "张三" in text and "李四" in text
    assert ID_NUMBER in text and "13800138000" in text and "二组12号" in text
    assert "两家因宅基地边界争执" in text and "请求确定边界" in text
    assert "已将申请人民调解的相关规定告知我，现自愿申请" in text
    assert "性别：女" in text                      # from the ID number
    # the intake does not ask 民族 or 职业: the document says so, and that 李四 has no ID number
    assert "本文书缺少以下内容" in text and "申请人张三的民族、职业或职务" in text
    assert "被申请人李四的性别、年龄、民族、职业或职务" in text


def test_application_masked_for_the_verifier(login_as, make_case):
    case_id = make_case(until="verify")
    text = _text(login_as("verify"), case_id, "application")
    assert ID_MASKED in text and ID_NUMBER not in text
    assert "138****8000" in text and "13800138000" not in text


def test_application_complete_has_no_missing_note(login_as, make_case):
    case_id = make_case(until="verify")
    _complete_parties(case_id)
    text = _text(login_as("sifa"), case_id, "application")
    assert "民族：汉族" in text and "农民" in text
    assert "本文书缺少以下内容" not in text


def test_application_applies_only_when_the_parties_applied(make_case):
    walk_in, grid = make_case(until="triage"), make_case(until="triage", source_channel="grid")
    spec = document("application")
    assert spec.applies(_case_file(walk_in)) and not spec.applies(_case_file(grid))


def test_rights_notice(login_as, make_case):
    case_id = make_case(until="verify")
    text = _text(login_as("verify"), case_id, "rights_notice")
    assert "人民调解当事人权利义务告知书" in text
    assert "张三、李四：" in text
    assert "选择或者接受人民调解员" in text and "接受调解、拒绝调解或者要求终止调解" in text
    assert "如实陈述纠纷事实" in text and "尊重对方当事人行使权利" in text
    assert "不收取任何费用" in text and "三十日内共同向人民法院申请司法确认" in text
    assert "本文书缺少以下内容" not in text


def test_investigation_one_page_each(login_as, make_case):
    case_id = make_case(until="verify")
    _investigation(case_id, 1)
    _investigation(case_id, 2, subject="赵六", subject_info=None, recorder=None,
                   content="问：围墙是什么时候砌的？\n答：去年秋天砌的，砌的时候李四就提出过异议。")
    pdf = _get(login_as("sifa"), case_id, "investigation")
    text = _squash(pdf_text(pdf, raw=True))
    assert cjk_font_embedded(pdf)
    assert "人民调解调查记录" in text and "文庙社区二组现场" in text
    assert "2026年3月1日14时30分" in text     # held at 06:30 UTC
    assert "王五" in text and "男，62岁，二组村民" in text and "社区网格员刘强" in text
    assert "核实宅基地老界址位置" in text
    assert "老界址在两家之间的石头桩子那里" in text and "去年秋天砌的" in text
    assert "第2次调查的记录人" in text and "第2次调查的被调查人基本情况" in text
    assert pdf_pages(pdf) >= 2
    assert "赵六" in _squash(pdf_text(pdf, page=pdf_pages(pdf), raw=True))  # the second starts on a page of its own
    assert "王五" not in _squash(pdf_text(pdf, page=pdf_pages(pdf), raw=True))


def test_investigation_applies_only_with_investigations(make_case):
    case_id = make_case(until="verify")
    assert not document("investigation").applies(_case_file(case_id))
    _investigation(case_id, 1)
    assert document("investigation").applies(_case_file(case_id))


def test_session_record_with_the_agreement(login_as, make_case):
    case_id = make_case(until="verify", at=T0)
    text = _text(login_as("sifa"), case_id, "session_record")
    assert "人民调解记录" in text and "第1次调解" in text
    assert "2026年3月2日09时00分" in text and "中心调解室" in text
    assert "张三与李四宅基地边界纠纷" in text
    assert "王明（司法局调解员）" in text and "赵丽" in text
    assert "要求按老界址确定边界" in text and "同意按老界址，但要求对方拆除新砌围墙" in text
    assert "权利和承担的义务" in text                     # the notice given
    assert AGREEMENT["agreement_facts"] in text             # the findings the agreement states
    assert "申请人于十日内拆除越界围墙" in text and NUMBER in text
    assert "本文书缺少以下内容" not in text


def test_session_record_without_agreement_names_the_other_channels(login_as, make_case):
    case_id = make_case(until="handle", at=T0)
    with frozen_at(T0):
        record_session(case_id, result="no_agreement", notes="双方对补偿金额分歧较大，无法达成一致", recorder="")
        do_step(case_id, "handle", result="terminated", process_notes="调解不成",
                next_channel="可向示范县人民法院提起诉讼")
    text = _text(login_as("sifa"), case_id, "session_record")
    assert "第1次调解" in text and "第2次调解" in text
    assert "双方对补偿金额分歧较大" in text and "未能达成协议" in text
    assert "诉讼、仲裁、行政等途径" in text and "可向示范县人民法院提起诉讼" in text
    assert "第2次调解的记录人" in text
    # the first session says "agreed" but no agreement was ever recorded
    assert "第1次调解达成的协议内容（调解协议尚未登记）" in text


def test_written_agreement(login_as, make_case):
    case_id = make_case(until="verify", at=T0)
    _complete_parties(case_id)
    text = _text(login_as("sifa"), case_id, "agreement")
    assert "人民调解协议书" in text and f"编号：{NUMBER}" in text
    assert "张三" in text and "李四" in text and ID_NUMBER in text and "110105197001010011" in text
    assert AGREEMENT["agreement_facts"] in text
    assert AGREEMENT["agreement_terms"] in text
    assert AGREEMENT["performance_terms"] in text
    assert "本协议一式三份" in text                        # two parties + the committee
    assert "协议形成日期：2026年3月2日" in text
    assert "王明（司法局调解员）" in text and "赵丽" in text
    assert "签名、盖章或按指印" in text and "（印章）" in text
    assert "本文书缺少以下内容" not in text
    assert not document("oral_agreement").applies(_case_file(case_id))


def test_agreement_lacking_the_recorder_says_so(login_as, make_case):
    case_id = make_case(until="handle", at=T0)
    with frozen_at(T0):
        record_session(case_id, recorder="")
        do_step(case_id, "handle")
    text = _text(login_as("sifa"), case_id, "agreement")
    assert "本文书缺少以下内容" in text and "记录人" in text


def test_oral_agreement(login_as, make_case):
    case_id = make_case(until="handle", at=T0)
    with frozen_at(T0):
        do_step(case_id, "handle", result="oral_agreement")
    client = login_as("sifa")
    text = _text(client, case_id, "oral_agreement")
    assert "人民调解口头协议登记表" in text and NUMBER in text
    assert "申请人于十日内拆除越界围墙" in text and "协议签订之日起十日内履行完毕" in text
    assert "2026年3月2日" in text and "王明（司法局调解员）" in text
    assert "sifa" in text                                    # 登记人: who recorded it
    assert "自各方当事人达成协议之日起生效" in text
    f = _case_file(case_id)
    assert document("oral_agreement").applies(f) and not document("agreement").applies(f)
    # asked for the written form anyway, it prints what is wrong
    assert "书面调解协议（本案为口头协议）" in _text(client, case_id, "agreement")


def test_followup_record(login_as, make_case):
    case_id = make_case(until="verify", at=T0)
    text = _text(login_as("verify"), case_id, "followup")
    assert "人民调解回访记录" in text and NUMBER in text
    assert "张三与李四宅基地边界纠纷" in text
    assert "电话回访" in text and "已履行" in text
    assert "申请人满意度：满意" in text and "被申请人满意度：基本满意" in text
    assert "双方均表示协议已履行" in text
    assert "verify" in text                                  # 回访人
    assert document("followup").applies(_case_file(case_id))
    assert not document("followup").applies(_case_file(make_case(until="handle")))


def test_closing_report_of_a_closed_case(login_as, make_case):
    case_id = make_case(until=None, at=T0)
    text = _text(login_as("sifa"), case_id, "closing_report")
    assert "人民调解结案报告表" in text
    assert "卷号：（2026）人调字第1号" in text
    assert "张三" in text and "二组12号" in text and "13800138000" in text
    assert "当事人申请" in text and "来访" in text
    assert "受案时间2026年3月2日" in text and "结案时间2026年3月2日" in text
    assert "调解成功" in text and "案结事了" in text and NUMBER in text
    assert "王明（司法局调解员）" in text                    # 承办人
    assert "本案尚未结案" not in text


def test_closing_report_of_an_open_case_says_it_is_open(login_as, make_case):
    case_id = make_case(until="verify")
    text = _text(login_as("sifa"), case_id, "closing_report")
    assert "本案尚未结案" in text and "结案（案件尚未结案）" in text
    assert not document("closing_report").applies(_case_file(case_id))


def test_confirmation_application(login_as, make_case):
    case_id = make_case(until="feedback", at=T0)
    with frozen_at(datetime(2026, 3, 10, 2, 0)):
        apply_for_confirmation(user("sifa"), case_id, "示范县人民法院", date(2026, 3, 10), joint=True)
    client = login_as("sifa")
    text = _text(client, case_id, "confirmation_application")
    assert "司法确认申请书" in text and "双方当事人共同申请" in text
    laid_out = _squash(pdf_text(_get(client, case_id, "confirmation_application")))
    assert "1.双方当事人出于解决纠纷的目的" in laid_out and "3.提交的材料真实" in laid_out  # numbered lists
    assert "示范县人民法院" in text and NUMBER in text
    assert "2026年3月2日" in text and "2026年3月10日" in text
    assert "申请人于十日内拆除越界围墙" in text
    assert "人民调解法》第三十三条" in text and "人民调解协议书" in text
    assert "张三" in text and "李四" in text
    assert "被申请人李四的身份证号" in text                # the court needs it
    assert document("confirmation_application").applies(_case_file(case_id))


def test_risk_notice_of_a_high_risk_case(login_as, make_case):
    case_id = make_case(until="triage")
    do_step(case_id, "triage", risk_level="high", opinion="双方积怨较深，已发生推搡，有激化苗头")
    do_step(case_id, "dispatch")
    text = _text(login_as("sifa"), case_id, "risk_notice")
    assert "风险管控提示函" in text
    assert "城关镇党委、人民政府" in text and "县司法局" in text
    assert "风险等级高" in text and "双方积怨较深，已发生推搡" in text
    assert "稳控责任人" in text and "化解责任人" in text
    assert "本文书缺少以下内容" in text and "跟踪回访安排（风险管控流程尚未在门户记录）" in text
    assert document("risk_notice").applies(_case_file(case_id))


def test_risk_notice_applies_when_a_party_was_dissatisfied(login_as, make_case):
    case_id = make_case(until="followup")
    assert not document("risk_notice").applies(_case_file(case_id))
    do_step(case_id, "followup", respondent_satisfaction="dissatisfied", notes="被申请人认为拆除围墙的期限太短")
    assert document("risk_notice").applies(_case_file(case_id))
    text = _text(login_as("sifa"), case_id, "risk_notice")
    assert "被申请人不满意" in text and "被申请人认为拆除围墙的期限太短" in text


@pytest.mark.parametrize("key,title,approval", [
    ("relief_form", "临时救助审批表", "县民政局审批意见"),
    ("legal_aid_form", "法律援助申请表", "法律援助机构负责人审批"),
    ("judicial_aid_form", "国家司法救助申请登记表", "政法委审核小组意见"),
])
def test_assistance_forms_are_prefilled_with_the_applicant(login_as, make_case, key, title, approval):
    case_id = make_case(until="verify")
    client = login_as("sifa")
    text = _text(client, case_id, key)
    assert title in text and approval in text
    assert "张三" in text and ID_NUMBER in text and "13800138000" in text and "二组12号" in text
    assert "本文书缺少以下内容" in text and "尚未启动" in text  # no application of this kind yet
    masked = _text(login_as("verify"), case_id, key)
    assert ID_MASKED in masked and ID_NUMBER not in masked


def test_legal_aid_form_gives_the_birth_date_only_unmasked(login_as, make_case):
    case_id = make_case(until="verify")
    assert "出生日期：1949年12月31日" in _text(login_as("sifa"), case_id, "legal_aid_form")
    masked = _text(login_as("verify"), case_id, "legal_aid_form")
    assert "1949年12月31日" not in masked and "出生日期：****年**月**日" in masked


def test_assistance_forms_apply_when_they_make_sense(make_case, ctx):
    mediated = _case_file(make_case(until="verify"))
    assert not any(document(k).applies(mediated) for k in ("relief_form", "legal_aid_form", "judicial_aid_form"))
    ended = make_case(until="handle")
    do_step(ended, "handle", result="terminated", process_notes="调解不成", next_channel="可向法院起诉")
    assert document("legal_aid_form").applies(_case_file(ended))
    from_court = _case_file(make_case(until="triage", source_channel="court"))
    assert document("judicial_aid_form").applies(from_court)


def test_unknown_document_is_404(login_as, make_case):
    case_id = make_case(until="verify")
    assert login_as("sifa").get(f"/cases/{case_id}/documents/nonsense").status_code == 404


def test_a_print_is_audited(login_as, make_case):
    case_id = make_case(until="verify")
    _get(login_as("verify"), case_id, "agreement")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "document.print",
                                                        AuditEvent.case_id == case_id)).one()
    detail = json.loads(event.detail)
    assert event.username == "verify" and detail["document"] == "agreement" and detail["masked"] is True
    assert "申请人张三的民族、职业或职务" in detail["missing"]


def test_every_document_is_one_fragment_the_dossier_can_point_at(make_case, app):
    case_id = make_case(until=None)
    _investigation(case_id, 1)
    _investigation(case_id, 2)
    f = _case_file(case_id)
    assert [d.slot for d in DOCUMENTS if d.slot] == sorted(d.slot for d in DOCUMENTS if d.slot)
    with app.test_request_context():
        for spec in DOCUMENTS:
            html = document_html(f, spec)
            assert html.count(f'id="doc-{spec.key}"') == 1, spec.key
            body = html.split("<body>", 1)[1].lstrip()
            assert re.match(rf'<section class="doc[ \w-]*" id="doc-{spec.key}"', body), spec.key
    assert document_html(f, document("investigation")).count('<section class="doc') == 2
