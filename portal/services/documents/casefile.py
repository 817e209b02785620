"""Everything the documents of one case say, loaded once (the documents never query on their own)."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.idcard import is_valid_id_number, mask_id_number, mask_phone
from portal.models import (
    AttachmentCategory,
    Branch,
    BranchKind,
    BranchOutcome,
    BranchStatus,
    Case,
    CaseAttachment,
    CaseStatus,
    DossierNumber,
    HandlingResult,
    Investigation,
    JudicialConfirmation,
    MediationAgreement,
    MediationSession,
    OrgKind,
    Party,
    PartyKind,
    PortalUser,
    Satisfaction,
    SessionResult,
    WorkItem,
    WorkItemKind,
    WorkItemStatus,
)
from portal.services.aid.risk import INTERVALS
from portal.services.archive import dossier_number_of
from portal.services.deadlines import utc_to_local
from portal.services.documents.terms import APPLIED, SOURCE_KINDS, choices, term


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
    born: str = ""        # 出生日期 from the ID number; "****年**月**日" when masked


def _party_view(party: Party, masked: bool, on: date) -> PartyView:
    number = (party.id_number or "").upper()
    gender = age = birth = ""
    if is_valid_id_number(number):
        gender = "男" if int(number[16]) % 2 else "女"
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        age = str(on.year - born.year - ((on.month, on.day) < (born.month, born.day)))
        birth = "****年**月**日" if masked else f"{born.year}年{born.month}月{born.day}日"
    return PartyView(kind=party.kind, name=party.name, gender=gender, age=age, ethnicity=party.ethnicity or "",
                     occupation=party.occupation or "",
                     id_number=mask_id_number(number) if masked else number,
                     phone=mask_phone(party.phone) if masked else (party.phone or ""),
                     address=party.address or "", born=birth)


@dataclass
class StepRecord:
    """A completed step of the chain: what its form recorded, when and by whom."""

    form_key: str
    name: str
    at: datetime          # county wall-clock time
    by: str
    unit: str
    data: dict[str, Any]
    branch_id: int | None = None


@dataclass
class BranchFile:
    """A branch of the case as its papers need it: the person (masked like the parties), what each
    step recorded, and the person's earlier relief or legal aid."""

    branch: Branch
    person: PartyView | None
    steps: dict[str, StepRecord]
    started_at: datetime                 # county wall-clock time
    # 临时救助: the person's relief granted within the year before; 法律援助: every earlier application
    earlier: list[Branch] = field(default_factory=list)

    def step(self, form_key: str) -> dict[str, Any]:
        record = self.steps.get(form_key)
        return record.data if record else {}

    def done(self, form_key: str) -> StepRecord | None:
        return self.steps.get(form_key)

    def day(self, form_key: str, name: str) -> date | None:
        """A date a step recorded (kept as ISO text)."""
        value = self.step(form_key).get(name)
        try:
            return date.fromisoformat(str(value)[:10]) if value else None
        except ValueError:
            return None

    @property
    def info(self) -> dict[str, Any]:
        return self.branch.info

    @property
    def finished(self) -> bool:
        return self.branch.status == BranchStatus.CLOSED

    @staticmethod
    def on(value: str | None) -> date | None:
        """A day the file keeps as ISO text: a date as it is, a stored (UTC) moment as the county's day."""
        if not value:
            return None
        try:
            return utc_to_local(datetime.fromisoformat(value)).date() if "T" in value \
                else date.fromisoformat(value[:10])
        except ValueError:
            return None

    @property
    def followup_days(self) -> int | None:
        """风险管控: every how many days the township follows the person up, at the present level."""
        interval = INTERVALS.get(self.branch.risk_level or "")
        return int(interval.strip("PD")) if interval else None


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
    branches: list[BranchFile] = field(default_factory=list)
    agreement_by: str = ""        # who recorded the agreement in the portal (登记人 of an oral agreement)

    def branches_of(self, kind: str) -> list[BranchFile]:
        return [b for b in self.branches if b.branch.kind.value == kind]

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

    def attached(self, category: str) -> list[CaseAttachment]:
        """The files attached under a category (its value: "identity", "confirmation" ...)."""
        return self.attachments.get(AttachmentCategory(category), [])

    def local(self, moment: datetime | None) -> datetime | None:
        """A stored (naive UTC) time, e.g. a session's ``held_at``, as the county's wall clock reads it."""
        return utc_to_local(moment) if moment else None

    @staticmethod
    def term(kind: str, value) -> str:
        """The Chinese word the forms print for a coded value (see ``terms.term``)."""
        return term(kind, value)

    @staticmethod
    def choices(kind: str) -> list[tuple[str, str]]:
        """The tick boxes of a step's choice: (value, Chinese label) (see ``terms.choices``)."""
        return choices(kind)

    @property
    def applicant_names(self) -> str:
        return "、".join(p.name for p in self.applicants)

    @property
    def respondent_names(self) -> str:
        return "、".join(p.name for p in self.respondents)

    def signers(self, label: str | None = None) -> list[tuple[str, bool]]:
        """(label, thumbprint) of each applicant's and respondent's signature line, each called ``label``
        when given (all "申请人" of a joint application), else by their role in the case."""
        return [(f"{label or '申请人'}　{p.name}", True) for p in self.applicants] + \
            [(f"{label or '被申请人'}　{p.name}", True) for p in self.respondents]

    @property
    def applied(self) -> bool:
        """The parties came to the portal themselves (a 申请书 is theirs to sign)."""
        return self.case.source_channel in APPLIED

    @property
    def source_kind(self) -> str:
        """案件来源 as the forms class it (当事人申请、主动调解、公安移交 ...)."""
        return SOURCE_KINDS.get(self.case.source_channel, "")

    @property
    def dispute_place(self) -> str:
        c = self.case
        return "".join([c.township.name, c.village.name if c.village else "",
                         c.place_detail or ""])

    @property
    def agreed_session(self) -> MediationSession | None:
        """The session at which the parties agreed (the agreement's mediators and recorder are its)."""
        agreed = [s for s in self.sessions if s.result == SessionResult.AGREED]
        return agreed[-1] if agreed else None

    @property
    def agreement_copies(self) -> int:
        """一式几份: one per party, one kept by the 调委会."""
        return len(self.applicants) + len(self.respondents) + 1

    @property
    def followups(self) -> list[StepRecord]:
        return self.steps.get("followup") or []

    @property
    def dissatisfied_visits(self) -> list[StepRecord]:
        """The follow-up visits at which a party said it is not satisfied."""
        return [v for v in self.followups if Satisfaction.DISSATISFIED.value in
                (v.data.get("applicant_satisfaction"), v.data.get("respondent_satisfaction"))]

    @property
    def dissatisfied(self) -> bool:
        return bool(self.dissatisfied_visits)

    @property
    def sector_department(self) -> str:
        """The stationed department that handled the case (the sector's 主管部门), if one did."""
        unit = self.case.assigned_unit
        return unit.name if unit is not None and unit.kind == OrgKind.DEPARTMENT else ""


def _body_name(case: Case, county: str) -> str:
    unit = case.assigned_unit
    if unit is not None and unit.kind in (OrgKind.COMMITTEE, OrgKind.STUDIO):
        return unit.name
    if unit is not None and unit.kind in (OrgKind.VILLAGE, OrgKind.TOWNSHIP):
        return f"{unit.name}人民调解委员会"
    return f"{county}矛盾纠纷调处化解中心人民调解委员会"


def _steps(case_id: int, every: list[WorkItem] | None) -> dict[str, list[StepRecord]]:
    """The case's done steps (of ``every`` step of the case, when the caller has read them) by form key,
    in the order they were done."""
    if every is None:
        items = db.session.scalars(
            select(WorkItem).options(joinedload(WorkItem.completed_by), joinedload(WorkItem.org_unit))
            .where(WorkItem.case_id == case_id, WorkItem.status == WorkItemStatus.DONE,
                   WorkItem.kind == WorkItemKind.TASK).order_by(WorkItem.completed_at, WorkItem.id))
    else:
        items = sorted((i for i in every if i.status == WorkItemStatus.DONE and i.kind == WorkItemKind.TASK),
                       key=lambda i: (i.completed_at or datetime.min, i.id))
    steps: dict[str, list[StepRecord]] = {}
    for item in items:
        by = item.completed_by
        steps.setdefault(item.form_key, []).append(StepRecord(
            form_key=item.form_key, name=item.name, at=utc_to_local(item.completed_at),
            by=(by.first_name or by.username) if by else "", unit=item.org_unit.name if item.org_unit else "",
            data=json.loads(item.result or "{}"), branch_id=item.branch_id))
    return steps


def _branches(case: Case, steps: dict[str, list[StepRecord]], masked: bool, today: date,
              read: Callable[[type], bool]) -> list[BranchFile]:
    files = []
    branches = db.session.scalars(select(Branch).where(Branch.case_id == case.id).order_by(Branch.id)) \
        if read(Branch) else []
    for branch in branches:
        own = {key: records[-1] for key, records in
               ((k, [r for r in v if r.branch_id == branch.id]) for k, v in steps.items()) if records}
        earlier = []
        if branch.kind == BranchKind.RELIEF and branch.person_key:
            earlier = list(db.session.scalars(select(Branch).where(
                Branch.kind == BranchKind.RELIEF, Branch.person_key == branch.person_key, Branch.id != branch.id,
                Branch.outcome == BranchOutcome.GRANTED, Branch.started_at < branch.started_at,
                Branch.started_at >= branch.started_at - timedelta(days=365)).order_by(Branch.started_at)))
        elif branch.kind == BranchKind.LEGAL_AID and branch.person_key:  # 以前是否申请过法律援助
            earlier = list(db.session.scalars(select(Branch).where(
                Branch.kind == BranchKind.LEGAL_AID, Branch.person_key == branch.person_key, Branch.id != branch.id,
                Branch.number.is_not(None), Branch.started_at < branch.started_at).order_by(Branch.started_at)))
        person = _party_view(branch.party, masked, today) if branch.party else None
        files.append(BranchFile(branch=branch, person=person, steps=own, started_at=utc_to_local(branch.started_at),
                                earlier=earlier))
    return files


# The kinds of record a case file reads besides its steps and papers: a caller that has asked which of
# them the case has (``queries.kinds_present``) gives the answer, and the absent ones are not read.
FILE_KINDS = (DossierNumber, MediationAgreement, MediationSession, Investigation, JudicialConfirmation, Branch)


def load_case_file(case: Case, masked: bool, today: date, *, steps: list[WorkItem] | None = None,
                   attachments: dict[AttachmentCategory, list[CaseAttachment]] | None = None,
                   present: set[type] | None = None) -> CaseFile:
    """All a case's documents need, in a handful of queries. A page that has read the case's steps
    (``queries.case_history``) or its papers (``attachments_of``) gives them, and they are not read again;
    one that knows which of ``FILE_KINDS`` the case has (``present``) has only those read."""
    def read(model: type) -> bool:
        return present is None or model in present
    county = current_app.config["PORTAL_COUNTY_NAME"]
    if attachments is None:
        attachments = {}
        for a in db.session.scalars(select(CaseAttachment).where(CaseAttachment.case_id == case.id)
                                    .order_by(CaseAttachment.id)):
            attachments.setdefault(a.category, []).append(a)
    number = dossier_number_of(case.id) if read(DossierNumber) else None
    agreement = db.session.scalar(select(MediationAgreement).where(MediationAgreement.case_id == case.id)) \
        if read(MediationAgreement) else None
    recorded_by = db.session.get(PortalUser, agreement.recorded_by_id) if agreement else None
    done = _steps(case.id, steps)
    sessions = db.session.scalars(select(MediationSession).where(MediationSession.case_id == case.id)
                                  .order_by(MediationSession.seq)) if read(MediationSession) else []
    investigations = db.session.scalars(select(Investigation).where(Investigation.case_id == case.id)
                                        .order_by(Investigation.seq)) if read(Investigation) else []
    return CaseFile(
        case=case, masked=masked, county=county, center=f"{county}矛盾纠纷调处化解中心",
        branches=_branches(case, done, masked, today, read),
        body=_body_name(case, county),
        parties=[_party_view(p, masked, today) for p in case.parties],
        sessions=list(sessions), investigations=list(investigations),
        agreement=agreement,
        agreement_by=(recorded_by.first_name or recorded_by.username) if recorded_by else "",
        confirmation=db.session.scalar(select(JudicialConfirmation)
                                       .where(JudicialConfirmation.case_id == case.id))
        if read(JudicialConfirmation) else None,
        attachments=attachments, steps=done,
        dossier_number=number.number if number else None,
        retention=(case.dispute_type.retention or (case.dispute_type.parent.retention
                                                   if case.dispute_type.parent else None)
                   or current_app.config["PORTAL_DOSSIER_RETENTION"]),
        today=today, registered_at=utc_to_local(case.registered_at),
        closed_at=utc_to_local(case.closed_at) if case.closed_at else None)
