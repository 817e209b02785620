"""Whether a case has each document (``applies``), and what each document needs that the case lacks
(``missing``, in Chinese, as the printed document and the archive check say it)."""
from __future__ import annotations

from portal.models import (
    AgreementKind,
    BranchOutcome,
    HandlingResult,
    LawfulChannel,
    RiskLevel,
    SessionResult,
    SourceChannel,
)
from portal.services.documents.casefile import BranchFile, CaseFile, PartyView

# 当事人基本情况 as the 申请书 and the 协议书 print it (gender and age come from the ID number).
BASIC = (("gender", "性别"), ("age", "年龄"), ("ethnicity", "民族"), ("occupation", "职业或职务"),
         ("phone", "联系方式"), ("address", "单位或住址"))
# What a court needs of each applicant for 司法确认 (民诉解释 §353: 身份、住所、联系方式).
IDENTITY = (("id_number", "身份证号"), ("address", "住所"), ("phone", "联系方式"))
CONTACT = (("address", "住址"), ("phone", "联系方式"))


def always(f: CaseFile) -> bool:
    return True


def _lacking(p: PartyView, fields) -> list[str]:
    return [label for attr, label in fields if not getattr(p, attr)]


def party_gaps(f: CaseFile, fields=BASIC) -> list[str]:
    """"申请人张三的民族、职业或职务" for each applicant and respondent lacking a field; "被申请人"
    when the case has none."""
    gaps = []
    for label, parties in (("申请人", f.applicants), ("被申请人", f.respondents)):
        if not parties:
            gaps.append(label)
        for p in parties:
            if lacking := _lacking(p, fields):
                gaps.append(f"{label}{p.name}的{'、'.join(lacking)}")
    return gaps


def registration_missing(f: CaseFile) -> list[str]:
    return [label for label, parties in (("申请人", f.applicants), ("被申请人", f.respondents)) if not parties]


def application_applies(f: CaseFile) -> bool:
    """The parties applied (came, called, wrote online or through 12345); a grid report is the
    committee's own initiative, a transfer comes with the sender's letter: the 登记表 records those."""
    return f.applied


def application_missing(f: CaseFile) -> list[str]:
    return party_gaps(f)


def rights_notice_missing(f: CaseFile) -> list[str]:
    return [] if f.applicants or f.respondents else ["当事人"]


def investigation_applies(f: CaseFile) -> bool:
    return bool(f.investigations)


def investigation_missing(f: CaseFile) -> list[str]:
    if not f.investigations:
        return ["调查记录（本案未记录调查）"]
    gaps = []
    for n, inv in enumerate(f.investigations, 1):
        if not inv.recorder:
            gaps.append(f"第{n}次调查的记录人")
        if not inv.subject_info:
            gaps.append(f"第{n}次调查的被调查人基本情况")
    return gaps


def session_record_applies(f: CaseFile) -> bool:
    return bool(f.sessions) or f.case.route == LawfulChannel.MEDIATION


def _session_gaps(f: CaseFile, s) -> list[str]:
    gaps = []
    if not s.recorder:
        gaps.append(f"第{s.seq}次调解的记录人")
    if s.result in (SessionResult.NO_AGREEMENT, SessionResult.PARTIAL) and not s.notes:
        gaps.append(f"第{s.seq}次调解查明的事实及未达成协议的原因")
    if s.result == SessionResult.AGREED and f.agreement is None:
        gaps.append(f"第{s.seq}次调解达成的协议内容（调解协议尚未登记）")
    return gaps


def session_record_missing(f: CaseFile) -> list[str]:
    if not f.sessions:
        return ["调解记录（本案尚未记录调解）"]
    return [gap for s in f.sessions for gap in _session_gaps(f, s)]


def agreement_applies(f: CaseFile) -> bool:
    return f.agreement is not None and f.agreement.kind == AgreementKind.WRITTEN


def oral_agreement_applies(f: CaseFile) -> bool:
    return f.agreement is not None and f.agreement.kind == AgreementKind.ORAL


def _agreement_gaps(f: CaseFile, kind: AgreementKind, party_fields) -> list[str]:
    a = f.agreement
    if a is None:
        return ["调解协议（本案未登记调解协议）"]
    if a.kind != kind:
        return ["书面调解协议（本案为口头协议）" if kind == AgreementKind.WRITTEN else "口头协议（本案为书面协议）"]
    gaps = party_gaps(f, party_fields)
    if not (a.mediators or "").strip():
        gaps.append("调解员")
    if kind == AgreementKind.WRITTEN and not a.recorder:
        gaps.append("记录人")
    if kind == AgreementKind.ORAL and not f.agreement_by:
        gaps.append("登记人")
    return gaps


def agreement_missing(f: CaseFile) -> list[str]:
    return _agreement_gaps(f, AgreementKind.WRITTEN, BASIC)


def oral_agreement_missing(f: CaseFile) -> list[str]:
    return _agreement_gaps(f, AgreementKind.ORAL, CONTACT)


def followup_applies(f: CaseFile) -> bool:
    return bool(f.followups)


def followup_missing(f: CaseFile) -> list[str]:
    if not f.followups:
        return ["回访记录（本案尚未回访）"]
    return [f"第{n}次回访的回访情况" for n, visit in enumerate(f.followups, 1)
            if not (visit.data.get("notes") or "").strip()]


def confirmation_applies(f: CaseFile) -> bool:
    return f.confirmation is not None


def confirmation_missing(f: CaseFile) -> list[str]:
    gaps = [] if f.confirmation else ["司法确认申请（本案未登记申请）"]
    if f.agreement is None or f.agreement.kind != AgreementKind.WRITTEN:
        gaps.append("人民调解协议书（司法确认只适用于书面调解协议）")
    return gaps + party_gaps(f, IDENTITY)


def closing_applies(f: CaseFile) -> bool:
    return f.closed


def closing_missing(f: CaseFile) -> list[str]:
    if not f.closed:
        return ["结案（案件尚未结案）"]
    gaps = [] if f.dossier_number else ["卷号"]
    if not f.mediators:
        gaps.append("承办人（本案无调解记录）")
    return gaps + party_gaps(f, CONTACT)


def _running(b: BranchFile, todo: list[str]) -> str:
    """"（2026）援申字第1号：指派、办理结果（尚在办理：指派律师）" for a file still running; a file
    without its number yet is named by its person."""
    name = b.branch.number or (b.person.name if b.person else "尚未受理的申请")
    return f"{name}：{'、'.join(todo)}（尚在办理：{b.branch.current_step or '等待期限届满'}）"


def _not_done(b: BranchFile, steps: list[tuple[str, str]]) -> list[str]:
    return [label for key, label in steps if not b.done(key)]


def risk_applies(f: CaseFile) -> bool:
    """A risk-control file of the case; or a high risk at triage, or a party dissatisfied at the follow-up
    visit."""
    return bool(f.branches_of("risk_control")) or f.case.risk_level == RiskLevel.HIGH.value or f.dissatisfied


RISK_STEPS = [("risk_assess", "风险研判"), ("risk_letter", "提示函文号及管控措施"),
              ("risk_assign", "稳控责任人、化解责任人及已采取措施")]


def risk_missing(f: CaseFile) -> list[str]:
    files = f.branches_of("risk_control")
    if files:  # a letter is complete once the township has named its responsible persons
        return [_running(b, todo) for b in files if not b.finished and (todo := _not_done(b, RISK_STEPS))]
    gaps = [] if f.last("triage") else ["风险等级及研判意见（案件尚未研判）"]
    if not f.sector_department:
        gaps.append("行业主管部门（案件未交由驻中心部门办理）")
    return gaps + ["稳控责任人", "化解责任人", "管控措施", "跟踪回访安排（风险管控流程尚未在门户记录）"]


def relief_applies(f: CaseFile) -> bool:
    """A relief application of the case; or 信访工作条例 §37: a petitioner in hardship is helped to apply
    for social assistance, and a high-risk dispute is often one of hardship."""
    return bool(f.branches_of("relief")) or (
        f.case.route == LawfulChannel.PETITION or f.case.source_channel == SourceChannel.PETITION
        or f.case.risk_level == RiskLevel.HIGH.value)


RELIEF_STEPS = [("relief_investigate", "入户调查核实情况"), ("relief_notice", "公示情况"),
                ("relief_opinion", "乡镇审核意见")]


def relief_missing(f: CaseFile) -> list[str]:
    files = f.branches_of("relief")
    if not files:
        return (["申请人"] if not f.applicants else []) + ["临时救助申请（本案尚未启动临时救助）"]
    gaps = []
    for b in files:
        if b.branch.outcome is not None:  # finished: what its path did not need is not a gap
            continue
        todo = [label for key, label in RELIEF_STEPS if not b.done(key)]
        now = b.branch.current_step or "等待公示期满"
        gaps.append(f"{b.branch.number}：{'、'.join(todo) if todo else '审批及发放'}（尚在办理：{now}）")
    return gaps


LEGAL_PROCEDURES = (LawfulChannel.LITIGATION, LawfulChannel.LABOUR_ARBITRATION, LawfulChannel.LAND_ARBITRATION,
                    LawfulChannel.ADMIN_REVIEW)


def legal_aid_applies(f: CaseFile) -> bool:
    """A legal-aid application of the case; or mediation did not settle it, or it belongs to a court, an
    arbitration or a review: a party who cannot afford a lawyer may ask for one (法律援助法 §31)."""
    return bool(f.branches_of("legal_aid")) \
        or f.handling_result in (HandlingResult.TERMINATED, HandlingResult.REDIRECTED) \
        or f.case.route in LEGAL_PROCEDURES


def _legal_aid_todo(b: BranchFile) -> list[str]:
    """The parts of the form a running legal-aid file has not reached yet, on its present path."""
    i = b.info
    if not b.done("legal_aid_apply"):
        return ["申请"]
    if i.get("objection_received_on") and i.get("objection_upheld") is None:
        return ["异议的审查决定"]
    if b.branch.outcome == BranchOutcome.REFUSED:
        return ["异议期限届满或申请人异议"]
    if not i.get("decided_on"):
        requests = i.get("supplement_requests") or []
        waiting = bool(requests) and not requests[-1].get("received_on")
        return (["补充材料"] if waiting else []) + ["审查意见", "审批决定"]
    return [label for key, label in (("lawyer", "指派"), ("result", "办理结果")) if not i.get(key)]


def legal_aid_missing(f: CaseFile) -> list[str]:
    files = f.branches_of("legal_aid")
    if not files:
        return (["申请人"] if not f.applicants else []) + [
            "户籍所在地、文化程度、身体状况、人群类别（门户未记录）", "家庭经济状况（门户未记录）",
            "法律援助审查及审批记录（法律援助流程尚未启动）"]
    return [_running(b, _legal_aid_todo(b)) for b in files if not b.finished]


JUDICIAL_SOURCES = (SourceChannel.COURT, SourceChannel.POLICE, SourceChannel.PROCURATORATE)


def judicial_aid_applies(f: CaseFile) -> bool:
    """A judicial-aid application of the case; or the matter is before a court, the police or the
    procuratorate (司法救助 is theirs to grant)."""
    return bool(f.branches_of("judicial_aid")) or f.case.source_channel in JUDICIAL_SOURCES \
        or f.case.route == LawfulChannel.LITIGATION or f.last("court_filing") is not None


# The parts of the form, in order, with the step that fills each.
JUDICIAL_AID_STEPS = [("judicial_aid_apply", "申请"), ("judicial_aid_opinion", "办案机关审查意见"),
                      ("judicial_aid_review", "审核小组决定"), ("judicial_aid_funds", "救助金拨付"),
                      ("judicial_aid_notify", "通知领取及发放")]


def judicial_aid_missing(f: CaseFile) -> list[str]:
    files = f.branches_of("judicial_aid")
    if not files:
        gaps = ["申请人"] if not f.applicants else []
        if f.last("court_filing") is None:
            gaps.append("原案件办案机关及案号")
        return gaps + ["与原案件当事人的关系、请求救助金额、生活困难证明（门户未记录）",
                       "司法救助审查及审批记录（司法救助流程尚未启动）"]
    return [_running(b, _not_done(b, JUDICIAL_AID_STEPS)) for b in files if not b.finished]
