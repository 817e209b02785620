"""Branches of a case: the assistance processes (临时救助, 法律援助, 司法救助) and risk control
(风险管控), each a workflow of its own started from the case (domain.md §3.2, §1.4).

A branch holds its workflow state like a case does; its steps are work items of the case (with
``work_item.branch_id`` set), so worklists, scoping, claims and the case's history need nothing new.
What the figures need (who, outcome, amounts, dates) are columns; what each kind's forms record
beside them is kept in ``details`` (JSON) and in the steps' own records.
"""
from __future__ import annotations

import json

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import relationship

from portal.models.base import enum_column_type
from portal.models.case import LabelledEnum


class BranchKind(LabelledEnum):
    RELIEF = "relief"                # 临时救助 (社会救助暂行办法 ch. 9)
    LEGAL_AID = "legal_aid"          # 法律援助 (法律援助法)
    JUDICIAL_AID = "judicial_aid"    # 国家司法救助
    RISK = "risk_control"            # 风险管控

    @staticmethod
    def LABELS():
        K = BranchKind
        return {K.RELIEF: _l("Temporary relief"), K.LEGAL_AID: _l("Legal aid"),
                K.JUDICIAL_AID: _l("Judicial aid"), K.RISK: _l("Risk control")}

    @property
    def process_id(self) -> str:
        """The BPMN process (file name without .bpmn) the branch runs."""
        return {BranchKind.RELIEF: "temporary_relief", BranchKind.LEGAL_AID: "legal_aid",
                BranchKind.JUDICIAL_AID: "judicial_aid", BranchKind.RISK: "risk_control"}[self]

    @property
    def pays_money(self) -> bool:
        return self in (BranchKind.RELIEF, BranchKind.JUDICIAL_AID)


class BranchStatus(LabelledEnum):
    OPEN = "open"
    CLOSED = "closed"

    @staticmethod
    def LABELS():
        return {BranchStatus.OPEN: _l("In progress"), BranchStatus.CLOSED: _l("Finished")}


class BranchOutcome(LabelledEnum):
    GRANTED = "granted"      # 准予救助/援助 (and paid, or a lawyer assigned)
    REFUSED = "refused"      # 不予救助/援助, with reasons
    WITHDRAWN = "withdrawn"  # 撤回, or 视为撤回 when missing materials were not supplied
    RESOLVED = "resolved"    # 风险管控: 矛盾化解, the person stable

    @staticmethod
    def LABELS():
        out = BranchOutcome
        return {out.GRANTED: _l("Granted"), out.REFUSED: _l("Not granted"), out.WITHDRAWN: _l("Withdrawn"),
                out.RESOLVED: _l("Resolved")}


class Branch(Model):
    """One assistance application or risk-control file of a person of a case, with its workflow."""

    __tablename__ = "case_branch"
    __table_args__ = (Index("ix_case_branch_kind_status", "kind", "status"),
                      Index("ix_case_branch_kind_paid", "kind", "paid_at"))  # the figures: aid paid in a period
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("mediation_case.id"), nullable=False, index=True)
    kind = Column(enum_column_type(BranchKind), nullable=False)
    number = Column(String(64), nullable=True, unique=True)  # 编号: LSJZ…, （年）援申字第N号, …
    party_id = Column(Integer, ForeignKey("party.id"), nullable=True, index=True)  # the person helped
    person_key = Column(String(64), nullable=True, index=True)  # ID number (or party id): "once per person"
    matter = Column(String(64), nullable=True)  # 困难类型 / 案由 / 救助情形 / 管控依据 (a code of the kind)
    status = Column(enum_column_type(BranchStatus), nullable=False, default=BranchStatus.OPEN)
    outcome = Column(enum_column_type(BranchOutcome), nullable=True)
    current_step = Column(String(200), nullable=True)
    emergency = Column(Boolean, nullable=False, default=False, server_default="0")
    amount_requested = Column(Numeric(14, 2), nullable=True)
    actual_loss = Column(Numeric(14, 2), nullable=True)        # 司法救助: loss less compensation received
    amount_granted = Column(Numeric(14, 2), nullable=True)
    amount_paid = Column(Numeric(14, 2), nullable=True)
    paid_at = Column(DateTime, nullable=True)
    decision_reason = Column(Text, nullable=True)  # the written reasons of the decision
    risk_level = Column(String(16), nullable=True)  # 风险管控: high / medium / low
    details = Column(Text, nullable=True)  # JSON: what the kind's forms record beside the columns
    due_at = Column(DateTime, nullable=True)  # the whole procedure's limit (临时救助: 15 working days)
    started_at = Column(DateTime, nullable=False)
    started_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    closed_at = Column(DateTime, nullable=True)
    process_version_id = Column(Integer, ForeignKey("process_version.id"), nullable=False)
    wf_state = Column(Text, nullable=False)
    next_timer_due_at = Column(DateTime, nullable=True, index=True)
    updated_at = Column(DateTime, nullable=False)

    case = relationship("Case")
    party = relationship("Party")
    process_version = relationship("ProcessVersion")
    started_by = relationship("PortalUser")

    @property
    def info(self) -> dict:
        return json.loads(self.details or "{}")

    def remember(self, **values) -> None:
        """Add to ``details`` (values must be JSON-safe)."""
        self.details = json.dumps({**self.info, **values}, ensure_ascii=False, default=str)

    @property
    def person_name(self) -> str:
        return self.party.name if self.party is not None else ""
