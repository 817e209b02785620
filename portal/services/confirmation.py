"""司法确认: the parties jointly ask the court to confirm a written mediation agreement.

人民调解法 §33 and 民事诉讼法 §205: both parties apply together, within 30 days of the
agreement taking effect, to the people's court where the mediation body is.
"""
from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.extensions import db
from portal.models import Case, ConfirmationStatus, HandlingResult, JudicialConfirmation
from portal.services._tx import transaction
from portal.services.audit import audit
from portal.services.deadlines import local_today
from portal.services.errors import CaseNotFoundError, TaskNotYoursError, ValidationFailed, required_text

APPLY_WITHIN = timedelta(days=30)
RECORDERS = {"dispatcher", "dept_handler", "mediator", "township_staff", "Admin"}


def _case_for_recording(user, case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    if case is None:
        raise CaseNotFoundError()
    if not RECORDERS & {r.name for r in user.roles}:
        raise TaskNotYoursError()
    return case


def can_apply(case: Case) -> bool:
    return case.handling_result == HandlingResult.WRITTEN_AGREEMENT.value and case.agreement_date is not None


@transaction
def apply_for_confirmation(user, case_id: int, court: str, applied_on: date, joint: bool) -> JudicialConfirmation:
    """Record the joint application; refused without both parties or after the 30 days."""
    case = _case_for_recording(user, case_id)
    if not can_apply(case):
        raise ValidationFailed(_l("Only a written mediation agreement can be confirmed by a court."))
    if db.session.scalar(select(JudicialConfirmation.id).where(JudicialConfirmation.case_id == case.id)):
        raise ValidationFailed(_l("A judicial confirmation is already recorded for this case."))
    if not joint:
        raise ValidationFailed(_l("Both parties must apply together."), field="joint")
    court = required_text(court, "court")
    if applied_on > local_today() or applied_on < case.agreement_date:
        raise ValidationFailed(_l("The application date must lie between the agreement and today."),
                               field="applied_on")
    if applied_on > case.agreement_date + APPLY_WITHIN:
        raise ValidationFailed(_l("The 30 days to apply ended on %(last)s (the agreement took effect on %(agreed)s)."),
                               field="applied_on", last=case.agreement_date + APPLY_WITHIN,
                               agreed=case.agreement_date)
    record = JudicialConfirmation(case_id=case.id, court=court, applied_on=applied_on,
                                  status=ConfirmationStatus.APPLIED, recorded_by_id=user.id)
    db.session.add(record)
    audit("case.confirmation_apply", user=user, case=case, court=record.court, applied_on=applied_on)
    return record


@transaction
def record_confirmation_ruling(user, case_id: int, confirmed: bool, ruling_no: str,
                               decided_on: date) -> JudicialConfirmation:
    """Record the court's ruling on an application."""
    case = _case_for_recording(user, case_id)
    record = db.session.scalar(select(JudicialConfirmation).where(JudicialConfirmation.case_id == case.id))
    if record is None or record.status != ConfirmationStatus.APPLIED:
        raise ValidationFailed(_l("There is no application awaiting the court's ruling."))
    ruling_no = required_text(ruling_no, "ruling_no")
    if decided_on < record.applied_on or decided_on > local_today():
        raise ValidationFailed(_l("The ruling date must lie between the application and today."),
                               field="decided_on")
    record.status = ConfirmationStatus.CONFIRMED if confirmed else ConfirmationStatus.REJECTED
    record.ruling_no, record.decided_on = ruling_no, decided_on
    audit("case.confirmation_ruling", user=user, case=case, status=record.status.value, ruling_no=record.ruling_no)
    return record


def confirmation_of(case_id: int) -> JudicialConfirmation | None:
    return db.session.scalar(select(JudicialConfirmation).where(JudicialConfirmation.case_id == case_id))
