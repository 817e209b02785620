"""考核: a score for the lead unit on each closed case (on time, success, satisfaction).

County default weights: on time 40, success 30, satisfaction 30 (满意 30, 基本满意 24,
不满意 0; a case whose parties could not be reached scores the middle, 15).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from portal.extensions import db
from portal.models import Case, CaseScore, HandlingResult, Satisfaction

SATISFACTION_POINTS = {Satisfaction.SATISFIED: 100, Satisfaction.BASICALLY: 80, Satisfaction.DISSATISFIED: 0}
SUCCESS = {HandlingResult.WRITTEN_AGREEMENT.value, HandlingResult.ORAL_AGREEMENT.value,
           HandlingResult.WITHDRAWN.value}


def score_case(case: Case, now: datetime) -> CaseScore:
    """Compute (or recompute) the case's score in the caller's transaction."""
    on_time = case.due_at is None or now <= case.due_at
    success = case.handling_result in SUCCESS
    satisfaction = SATISFACTION_POINTS.get(Satisfaction(case.satisfaction)) if case.satisfaction else None
    points = (40 if on_time else 0) + (30 if success else 0) + (
        round(satisfaction * 0.3) if satisfaction is not None else 15)
    score = db.session.scalar(select(CaseScore).where(CaseScore.case_id == case.id)) or CaseScore(case_id=case.id)
    score.unit_id, score.on_time, score.success = case.assigned_unit_id, on_time, success
    score.satisfaction, score.score, score.scored_at = satisfaction, points, now
    db.session.add(score)
    return score
