"""人民调解协议书 and 口头协议: the agreement a mediation reached, numbered once per year.

Recorded by the handling step that reports the agreement (in that step's transaction); a case
sent back by the verifier and mediated again keeps its number and gets the new terms.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.clock import utcnow
from portal.extensions import db
from portal.models import AgreementKind, Case, MediationAgreement, MediationSession, SessionResult
from portal.services.errors import ValidationFailed
from portal.services.locks import lock_number_series

AGREEMENT_FIELDS = ("agreement_facts", "agreement_terms", "performance_terms")


def _text(data: dict[str, Any], field: str, message) -> str:
    value = (data.get(field) or "").strip() if isinstance(data.get(field), str) else ""
    if not value:
        raise ValidationFailed(message, field=field)
    return value


def record_agreement(user, case: Case, kind: AgreementKind, agreed_on: date, data: dict[str, Any]) -> \
        MediationAgreement:
    """Write (or rewrite) the case's agreement from the step's form data."""
    facts = _text(data, "agreement_facts", _l("Give the main facts, the matters in dispute and each side's "
                                              "responsibility, as the agreement states them."))
    terms = _text(data, "agreement_terms", _l("Give the terms the parties agreed."))
    performance = _text(data, "performance_terms", _l("Say how, where and by when the agreement is to be "
                                                      "performed."))
    agreed_session = db.session.scalars(
        select(MediationSession).where(MediationSession.case_id == case.id,
                                       MediationSession.result == SessionResult.AGREED)
        .order_by(MediationSession.seq.desc())).first()
    agreement = db.session.scalar(select(MediationAgreement).where(MediationAgreement.case_id == case.id))
    if agreement is None:
        lock_number_series("agreement")
        year = agreed_on.year
        seq = (db.session.scalar(select(func.max(MediationAgreement.seq)).where(MediationAgreement.year == year))
               or 0) + 1
        agreement = MediationAgreement(case_id=case.id, year=year, seq=seq)
        db.session.add(agreement)
    agreement.kind, agreement.agreed_on = kind, agreed_on
    agreement.facts, agreement.terms, agreement.performance = facts, terms, performance
    agreement.mediators = agreed_session.mediators if agreed_session else (user.first_name or user.username)
    agreement.recorder = agreed_session.recorder if agreed_session else None
    agreement.unit_id = case.assigned_unit_id
    agreement.recorded_by_id, agreement.recorded_at = user.id, utcnow()
    data["agreement_number"] = agreement.number  # kept in the step's record for the history
    return agreement


def agreement_of(case_id: int) -> MediationAgreement | None:
    return db.session.scalar(select(MediationAgreement).where(MediationAgreement.case_id == case_id))
