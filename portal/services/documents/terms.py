"""The words the documents print for the portal's coded values.

Official forms are Chinese whatever language the reader's portal uses, so enum labels and the
choices of the assistance and risk-control steps are rendered under the ``zh`` locale; the words
no enum carries (案件来源 as the forms class it, 回访方式) are the forms' own wording.
"""
from __future__ import annotations

from flask_babel import force_locale

from portal.models import (
    CaseStatus,
    ClosingType,
    Complexity,
    ConfirmationStatus,
    Fulfilment,
    HandlingResult,
    MediationKind,
    ResolutionMode,
    RiskLevel,
    Satisfaction,
    SessionResult,
    SourceChannel,
)
from portal.services.aid import judicial_aid, legal_aid, risk

ENUMS = {
    "closing": ClosingType, "complexity": Complexity, "confirmation": ConfirmationStatus, "status": CaseStatus,
    "fulfilment": Fulfilment, "handling": HandlingResult, "mediation_kind": MediationKind, "mode": ResolutionMode,
    "risk": RiskLevel, "satisfaction": Satisfaction, "session_result": SessionResult, "source": SourceChannel,
}

# The choices the branches' steps record, by the name the documents ask for them.
CHOICES = {
    "legal_aid_matter": legal_aid.MATTERS, "legal_aid_form": legal_aid.AID_FORMS,
    "legal_aid_status": legal_aid.LEGAL_STATUS, "legal_aid_exemption": legal_aid.EXEMPTIONS,
    "legal_aid_material": legal_aid.MATERIALS, "legal_aid_supplement": legal_aid.SUPPLEMENT_ITEMS,
    "legal_aid_refusal": legal_aid.REFUSAL_GROUNDS, "legal_aid_first": legal_aid.FIRST_REASONS,
    "legal_aid_told": legal_aid.TOLD_BY, "legal_aid_result": legal_aid.RESULTS,
    "legal_aid_termination": legal_aid.TERMINATION_GROUNDS,
    "judicial_aid_situation": judicial_aid.SITUATIONS, "judicial_aid_material": judicial_aid.MATERIALS,
    "risk_basis": risk.BASES, "risk_method": risk.METHODS, "risk_state": risk.STATES,
}

FOLLOWUP_METHODS = {"phone": "电话回访", "visit": "上门回访", "online": "线上回访"}
# 通知领取司法救助金的方式 (the step's labels share their msgids with the follow-up visit's, 电话回访 …)
NOTIFY_METHODS = {"phone": "电话", "in_person": "当面", "written": "书面", "sms": "短信"}

# 案件来源 as the 结案报告表 classes it (domain.md §2.1): 申请 / 主动 / 公安移交 / 审判机关委托 / 政府指定.
APPLIED = (SourceChannel.WALK_IN, SourceChannel.PHONE, SourceChannel.ONLINE, SourceChannel.HOTLINE_12345)
SOURCE_KINDS = {
    **{s: "当事人申请" for s in APPLIED},
    SourceChannel.GRID: "人民调解委员会主动调解",
    SourceChannel.POLICE: "公安机关移交",
    SourceChannel.COURT: "人民法院委托",
    SourceChannel.PROCURATORATE: "检察机关移交",
    SourceChannel.GOVERNMENT: "政府及有关部门指定",
    SourceChannel.PETITION: "信访部门移交",
}


def term(kind: str, value) -> str:
    """The Chinese label of ``value`` (an enum member or its stored value) of the enum, or of the
    step's choice, named ``kind``; "" for no value."""
    if value in (None, ""):
        return ""
    if kind == "followup_method":
        return FOLLOWUP_METHODS.get(value, str(value))
    if kind == "judicial_aid_notify":
        return NOTIFY_METHODS.get(value, str(value))
    if kind in CHOICES:
        with force_locale("zh"):
            return str(CHOICES[kind].get(value, value))
    enum_cls = ENUMS[kind]
    member = value if isinstance(value, enum_cls) else enum_cls(value)
    with force_locale("zh"):
        return str(member.label)


def choices(kind: str) -> list[tuple[str, str]]:
    """Every (value, Chinese label) of a step's choice named ``kind`` (the tick boxes of a form)."""
    with force_locale("zh"):
        return [(value, str(label)) for value, label in CHOICES[kind].items()]
