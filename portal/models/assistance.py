"""Other assistance given to the people of a case: social work and volunteer services (社工服务、志愿服务).

No standard form exists (domain.md §3.2): a service is recorded as a referral -- who was served, what
kind of service, which organisation took it on and who gave it, when, for how long and with what
result. The person-times (人次) it counts feed the dashboard's service totals.
"""
from __future__ import annotations

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from portal.models.base import enum_column_type
from portal.models.case import LabelledEnum

MAX_MINUTES = 24 * 60  # one sitting of a service, at most a day


class ServiceType(LabelledEnum):
    COUNSELLING = "counselling"          # 心理疏导
    COMPANIONSHIP = "companionship"      # 陪伴
    LEGAL_EDUCATION = "legal_education"  # 普法
    PRACTICAL_HELP = "practical_help"    # 帮扶
    OTHER = "other"

    @staticmethod
    def LABELS():
        S = ServiceType
        return {S.COUNSELLING: _l("Psychological counselling"), S.COMPANIONSHIP: _l("Companionship"),
                S.LEGAL_EDUCATION: _l("Legal education"), S.PRACTICAL_HELP: _l("Practical help"),
                S.OTHER: _l("Other service")}


class ProviderKind(LabelledEnum):
    SOCIAL_WORK = "social_work"  # 社会工作服务机构 / 社工
    VOLUNTEER = "volunteer"      # 志愿者 (a volunteer team or person)

    @staticmethod
    def LABELS():
        return {ProviderKind.SOCIAL_WORK: _l("Social work organisation"),
                ProviderKind.VOLUNTEER: _l("Volunteers")}


class ServiceReferral(Model):
    """One service given to a person of a case: by whom, when, how long, for how many person-times."""

    __tablename__ = "service_referral"
    __table_args__ = (
        CheckConstraint(f"duration_minutes > 0 AND duration_minutes <= {MAX_MINUTES}",
                        name="ck_service_referral_duration"),
        CheckConstraint("persons >= 1", name="ck_service_referral_persons"),
    )
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("mediation_case.id"), nullable=False, index=True)
    seq = Column(Integer, nullable=False)
    service_type = Column(enum_column_type(ServiceType), nullable=False)
    provider_kind = Column(enum_column_type(ProviderKind), nullable=False)
    provider = Column(String(200), nullable=False)        # 承接机构 (or the volunteer team)
    worker = Column(String(200), nullable=False)          # 社工/志愿者 names
    party_id = Column(Integer, ForeignKey("party.id"), nullable=True)  # 服务对象: a party of the case ...
    person_name = Column(String(50), nullable=True)       # ... or someone else (a family member), by name
    served_at = Column(DateTime, nullable=False, index=True)  # naive UTC
    duration_minutes = Column(Integer, nullable=False)
    persons = Column(Integer, nullable=False, default=1)  # person-times counted (人次)
    result = Column(Text, nullable=False)
    recorded_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    recorded_at = Column(DateTime, nullable=False)
    party = relationship("Party")

    @property
    def served_name(self) -> str:
        return self.party.name if self.party is not None else (self.person_name or "")
