"""立卷: each closed case gets its dossier number (卷号) in the year it closed, in the order cases close."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Case, DossierNumber
from portal.services.deadlines import utc_to_local
from portal.services.locks import lock_number_series


def assign_dossier_number(case: Case, now: datetime) -> DossierNumber:
    """The case's dossier number, drawn now if it has none (in the caller's transaction)."""
    existing = dossier_number_of(case.id)
    if existing is not None:
        return existing
    lock_number_series("dossier")
    year = utc_to_local(now).year
    seq = (db.session.scalar(select(func.max(DossierNumber.seq)).where(DossierNumber.year == year)) or 0) + 1
    number = DossierNumber(case_id=case.id, year=year, seq=seq, assigned_at=now)
    db.session.add(number)
    return number


def dossier_number_of(case_id: int) -> DossierNumber | None:
    return db.session.scalar(select(DossierNumber).where(DossierNumber.case_id == case_id))
