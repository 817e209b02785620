"""The words the documents print for the portal's coded values.

Official forms are Chinese whatever language the reader's portal uses, so enum labels are
rendered under the ``zh`` locale; the words no enum carries (案件来源 as the forms class it,
回访方式) are the forms' own wording.
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

ENUMS = {
    "closing": ClosingType, "complexity": Complexity, "confirmation": ConfirmationStatus, "status": CaseStatus,
    "fulfilment": Fulfilment, "handling": HandlingResult, "mediation_kind": MediationKind, "mode": ResolutionMode,
    "risk": RiskLevel, "satisfaction": Satisfaction, "session_result": SessionResult, "source": SourceChannel,
}

FOLLOWUP_METHODS = {"phone": "电话回访", "visit": "上门回访", "online": "线上回访"}

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
    """The Chinese label of ``value`` (an enum member or its stored value) of the enum named ``kind``;
    "" for no value."""
    if value in (None, ""):
        return ""
    if kind == "followup_method":
        return FOLLOWUP_METHODS.get(value, str(value))
    enum_cls = ENUMS[kind]
    member = value if isinstance(value, enum_cls) else enum_cls(value)
    with force_locale("zh"):
        return str(member.label)
