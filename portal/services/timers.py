"""The timer worker's unit of work: fire due BPMN timers, one case per transaction."""
from __future__ import annotations

from sqlalchemy import select

from portal.clock import utcnow
from portal.extensions import db
from portal.models import Case
from portal.services._tx import transaction
from portal.services.audit import audit
from portal.services.cases import _sync
from portal.services.engine import get_engine, spec_for


def fire_due_timers(limit: int = 100) -> int:
    """Fire the timers of up to ``limit`` due cases; return how many cases were advanced."""
    fired = 0
    while fired < limit and _fire_next():
        fired += 1
    return fired


@transaction
def _fire_next() -> bool:
    """Claim one due case (skipping rows another worker holds), fire its timers, save."""
    now = utcnow()
    case = db.session.scalars(
        select(Case).where(Case.next_timer_due_at.is_not(None), Case.next_timer_due_at <= now)
        .order_by(Case.next_timer_due_at).limit(1).with_for_update(skip_locked=True)).first()
    if case is None:
        return False
    engine = get_engine()
    wf = engine.restore(case.wf_state, spec_for(case.process_version_id))
    engine.fire_due_timers(wf)
    _sync(case, wf, now)
    audit("case.timer", case=case, status=case.status.value)
    return True
