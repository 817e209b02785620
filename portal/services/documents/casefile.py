"""Everything the documents of one case say, loaded once (the documents never query on their own)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.idcard import is_valid_id_number, mask_id_number, mask_phone
from portal.models import (
    AttachmentCategory,
    Case,
    CaseAttachment,
    CaseStatus,
    HandlingResult,
    Investigation,
    JudicialConfirmation,
    MediationAgreement,
    MediationSession,
    OrgKind,
    Party,
    PartyKind,
    WorkItem,
    WorkItemKind,
    WorkItemStatus,
)
from portal.services.archive import dossier_number_of
from portal.services.deadlines import utc_to_local


@dataclass
class PartyView:
    """A party as the documents print it: personal data masked unless the reader's role needs it."""

    kind: PartyKind
    name: str
    gender: str
    age: str
    ethnicity: str
    occupation: str
    id_number: str
    phone: str
    address: str


def _party_view(party: Party, masked: bool, on: date) -> PartyView:
    number = (party.id_number or "").upper()
    gender = age = ""
    if is_valid_id_number(number):
        gender = "男" if int(number[16]) % 2 else "女"
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        age = str(on.year - born.year - ((on.month, on.day) < (born.month, born.day)))
    return PartyView(kind=party.kind, name=party.name, gender=gender, age=age, ethnicity=party.ethnicity or "",
                     occupation=party.occupation or "",
                     id_number=mask_id_number(number) if masked else number,
                     phone=mask_phone(party.phone) if masked else (party.phone or ""),
                     address=party.address or "")


@dataclass
class StepRecord:
    """A completed step of the chain: what its form recorded, when and by whom."""

    form_key: str
    name: str
    at: datetime          # county wall-clock time
    by: str
    unit: str
    data: dict[str, Any]


@dataclass
class CaseFile:
    case: Case
    masked: bool
    county: str
    center: str                   # 示范县矛盾纠纷调处化解中心
    body: str                     # the 人民调解委员会 (or the unit) that mediated
    parties: list[PartyView]
    sessions: list[MediationSession]
    investigations: list[Investigation]
    agreement: MediationAgreement | None
    confirmation: JudicialConfirmation | None
    attachments: dict[AttachmentCategory, list[CaseAttachment]]
    steps: dict[str, list[StepRecord]]
    dossier_number: str | None
    retention: str
    today: date
    registered_at: datetime       # county wall-clock time
    closed_at: datetime | None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def applicants(self) -> list[PartyView]:
        return [p for p in self.parties if p.kind == PartyKind.APPLICANT]

    @property
    def respondents(self) -> list[PartyView]:
        return [p for p in self.parties if p.kind == PartyKind.RESPONDENT]

    @property
    def agents(self) -> list[PartyView]:
        return [p for p in self.parties if p.kind == PartyKind.AGENT]

    @property
    def closed(self) -> bool:
        return self.case.status == CaseStatus.CLOSED

    @property
    def mediators(self) -> str:
        """Everyone who mediated the case's sessions, in order, once each."""
        seen: list[str] = []
        for s in self.sessions:
            for name in s.mediators.replace(",", "、").replace("，", "、").split("、"):
                if name.strip() and name.strip() not in seen:
                    seen.append(name.strip())
        return "、".join(seen)

    @property
    def handling_result(self) -> HandlingResult | None:
        return HandlingResult(self.case.handling_result) if self.case.handling_result else None

    def last(self, form_key: str) -> StepRecord | None:
        records = self.steps.get(form_key) or []
        return records[-1] if records else None


def _body_name(case: Case, county: str) -> str:
    unit = case.assigned_unit
    if unit is not None and unit.kind in (OrgKind.COMMITTEE, OrgKind.STUDIO):
        return unit.name
    if unit is not None and unit.kind in (OrgKind.VILLAGE, OrgKind.TOWNSHIP):
        return f"{unit.name}人民调解委员会"
    return f"{county}矛盾纠纷调处化解中心人民调解委员会"


def _steps(case_id: int) -> dict[str, list[StepRecord]]:
    items = db.session.scalars(
        select(WorkItem).options(joinedload(WorkItem.completed_by), joinedload(WorkItem.org_unit))
        .where(WorkItem.case_id == case_id, WorkItem.status == WorkItemStatus.DONE,
               WorkItem.kind == WorkItemKind.TASK).order_by(WorkItem.completed_at, WorkItem.id))
    steps: dict[str, list[StepRecord]] = {}
    for item in items:
        by = item.completed_by
        steps.setdefault(item.form_key, []).append(StepRecord(
            form_key=item.form_key, name=item.name, at=utc_to_local(item.completed_at),
            by=(by.first_name or by.username) if by else "", unit=item.org_unit.name if item.org_unit else "",
            data=json.loads(item.result or "{}")))
    return steps


def load_case_file(case: Case, masked: bool, today: date) -> CaseFile:
    """All a case's documents need, in a handful of queries."""
    county = current_app.config["PORTAL_COUNTY_NAME"]
    attachments: dict[AttachmentCategory, list[CaseAttachment]] = {}
    for a in db.session.scalars(select(CaseAttachment).where(CaseAttachment.case_id == case.id)
                                .order_by(CaseAttachment.id)):
        attachments.setdefault(a.category, []).append(a)
    number = dossier_number_of(case.id)
    return CaseFile(
        case=case, masked=masked, county=county, center=f"{county}矛盾纠纷调处化解中心",
        body=_body_name(case, county),
        parties=[_party_view(p, masked, today) for p in case.parties],
        sessions=list(db.session.scalars(select(MediationSession).where(MediationSession.case_id == case.id)
                                         .order_by(MediationSession.seq))),
        investigations=list(db.session.scalars(select(Investigation).where(Investigation.case_id == case.id)
                                               .order_by(Investigation.seq))),
        agreement=db.session.scalar(select(MediationAgreement).where(MediationAgreement.case_id == case.id)),
        confirmation=db.session.scalar(select(JudicialConfirmation)
                                       .where(JudicialConfirmation.case_id == case.id)),
        attachments=attachments, steps=_steps(case.id),
        dossier_number=number.number if number else None,
        retention=(case.dispute_type.retention or (case.dispute_type.parent.retention
                                                   if case.dispute_type.parent else None)
                   or current_app.config["PORTAL_DOSSIER_RETENTION"]),
        today=today, registered_at=utc_to_local(case.registered_at),
        closed_at=utc_to_local(case.closed_at) if case.closed_at else None)
