"""What the printed dossier (人民调解卷宗) is made of beyond the chain's steps: the mediation
agreement, investigation records, the files attached to a case, dossier numbers and batch prints."""
from __future__ import annotations

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from portal.models.base import enum_column_type
from portal.models.case import LabelledEnum


class AgreementKind(LabelledEnum):
    WRITTEN = "written"  # 人民调解协议书 (人民调解法 §29)
    ORAL = "oral"        # 口头协议 (§30), registered on the 口头协议登记表

    @staticmethod
    def LABELS():
        return {AgreementKind.WRITTEN: _l("Written agreement"), AgreementKind.ORAL: _l("Oral agreement")}


class MediationAgreement(Model):
    """The agreement a mediation reached: numbered, with its terms and how it is to be performed."""

    __tablename__ = "mediation_agreement"
    __table_args__ = (UniqueConstraint("year", "seq", name="uq_mediation_agreement_number"),)
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("mediation_case.id"), nullable=False, unique=True)
    year = Column(Integer, nullable=False)
    seq = Column(Integer, nullable=False)
    kind = Column(enum_column_type(AgreementKind), nullable=False)
    facts = Column(Text, nullable=False)        # 纠纷主要事实、争议事项及各方责任
    terms = Column(Text, nullable=False)        # 协议内容
    performance = Column(Text, nullable=False)  # 履行方式、地点、期限
    agreed_on = Column(Date, nullable=False)
    mediators = Column(String(200), nullable=False)
    recorder = Column(String(50), nullable=True)
    unit_id = Column(Integer, ForeignKey("org_unit.id"), nullable=True)  # the body that mediated
    recorded_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    recorded_at = Column(DateTime, nullable=False)
    unit = relationship("OrgUnit")

    @property
    def number(self) -> str:
        return f"（{self.year}）人调协字第{self.seq}号"


class Investigation(Model):
    """人民调解调查记录: one inquiry of a person about the dispute, in questions and answers."""

    __tablename__ = "case_investigation"
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("mediation_case.id"), nullable=False, index=True)
    seq = Column(Integer, nullable=False)
    held_at = Column(DateTime, nullable=False)
    place = Column(String(200), nullable=False)
    investigators = Column(String(200), nullable=False)
    recorder = Column(String(50), nullable=True)
    subject = Column(String(100), nullable=False)          # 被调查人
    subject_info = Column(String(300), nullable=True)      # 被调查人基本情况 (age, work, relation to the parties)
    present = Column(String(200), nullable=True)           # 在场人
    matter = Column(String(200), nullable=False)           # 事由
    content = Column(Text, nullable=False)                 # 调查内容 (问/答)
    recorded_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    recorded_at = Column(DateTime, nullable=False)


class AttachmentCategory(LabelledEnum):
    """Where an attached file goes in the dossier (domain.md §2.2)."""

    IDENTITY = "identity"            # 3 当事人身份证明
    AUTHORIZATION = "authorization"  # 4 授权委托书
    EVIDENCE = "evidence"            # 6 证据材料
    PERFORMANCE = "performance"      # 9 收条或汇款单等履行凭证
    CONFIRMATION = "confirmation"    # 11 司法确认有关材料
    EXPLANATION = "explanation"      # 12 卷宗情况说明

    @staticmethod
    def LABELS():
        A = AttachmentCategory
        return {A.IDENTITY: _l("Proof of the parties' identity"), A.AUTHORIZATION: _l("Power of attorney"),
                A.EVIDENCE: _l("Evidence"), A.PERFORMANCE: _l("Receipt or proof of performance"),
                A.CONFIRMATION: _l("Judicial confirmation papers"), A.EXPLANATION: _l("Note on the dossier")}


class CaseAttachment(Model):
    """A scanned paper or photo attached to a case (an image or a PDF), kept in the upload folder."""

    __tablename__ = "case_attachment"
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("mediation_case.id"), nullable=False, index=True)
    category = Column(enum_column_type(AttachmentCategory), nullable=False)
    title = Column(String(200), nullable=False)
    filename = Column(String(200), nullable=False)      # as uploaded
    stored_name = Column(String(100), nullable=False)   # <sha256>.<ext> under UPLOAD_FOLDER
    content_type = Column(String(64), nullable=False)
    size = Column(Integer, nullable=False)
    pages = Column(Integer, nullable=False, default=1)
    uploaded_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    uploaded_at = Column(DateTime, nullable=False)
    uploaded_by = relationship("PortalUser")


class DossierNumber(Model):
    """卷号 "（年）人调字第 号": one per case, numbered in the year the case closed."""

    __tablename__ = "dossier_number"
    __table_args__ = (UniqueConstraint("year", "seq", name="uq_dossier_number"),)
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("mediation_case.id"), nullable=False, unique=True)
    year = Column(Integer, nullable=False)
    seq = Column(Integer, nullable=False)
    assigned_at = Column(DateTime, nullable=False)

    @property
    def number(self) -> str:
        return f"（{self.year}）人调字第{self.seq}号"


class PrintJobStatus(LabelledEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @staticmethod
    def LABELS():
        P = PrintJobStatus
        return {P.QUEUED: _l("Queued"), P.RUNNING: _l("Rendering"), P.DONE: _l("Ready"), P.FAILED: _l("Failed")}


class PrintJob(Model):
    """A batch print of many dossiers, rendered by the worker; the page polls its progress."""

    __tablename__ = "print_job"
    id = Column(Integer, primary_key=True)
    requested_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    requested_at = Column(DateTime, nullable=False)
    criteria = Column(Text, nullable=False)     # JSON: township, month, what was asked for
    case_ids = Column(Text, nullable=False)     # JSON list, fixed when the job is queued
    output = Column(String(8), nullable=False)  # "pdf" or "zip"
    masked = Column(Integer, nullable=False, default=1)  # 1: personal data masked (the requester's role)
    status = Column(enum_column_type(PrintJobStatus), nullable=False, default=PrintJobStatus.QUEUED)
    total = Column(Integer, nullable=False)
    done = Column(Integer, nullable=False, default=0)
    notes = Column(Text, nullable=True)         # JSON list of per-case notes (missing files, open cases)
    result_name = Column(String(100), nullable=True)  # file under the print folder
    error = Column(String(500), nullable=True)
    started_at = Column(DateTime, nullable=True)
    finished_at = Column(DateTime, nullable=True)
    requested_by = relationship("PortalUser")
