"""The timer worker's unit of work: fire due BPMN timers, one case per transaction.

Safe with several workers on several machines: on PostgreSQL each worker
claims a due case with ``FOR UPDATE SKIP LOCKED``; SQLite has one writer at a
time, so a worker takes the database's write lock before it looks. Either
way a case's due timers are fired by exactly one worker, and the case's
``next_timer_due_at`` (indexed) is all that is searched.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import undefer

from portal.clock import utcnow
from portal.extensions import db
from portal.models import Case
from portal.services._tx import transaction
from portal.services.audit import audit
from portal.services.cases import sync_case
from portal.services.engine import get_engine, spec_for
from portal.services.locks import take_sqlite_write_lock


def fire_due_timers(limit: int | None = None) -> int:
    """Fire the timers of due cases, then of due branches (all of them, or up to ``limit`` of each);
    return how many workflows advanced."""
    from portal.services.branches import fire_due_branch_timers
    fired = 0
    while (limit is None or fired < limit) and _fire_next():
        fired += 1
    return fired + fire_due_branch_timers(limit)


@transaction
def _fire_next() -> bool:
    """Claim one due case, fire its timers, save. False when nothing is due."""
    now = utcnow()
    take_sqlite_write_lock()
    case = db.session.scalars(
        select(Case).where(Case.next_timer_due_at.is_not(None), Case.next_timer_due_at <= now)
        .order_by(Case.next_timer_due_at).limit(1).with_for_update(skip_locked=True, key_share=True)
        .options(undefer(Case.wf_state)).execution_options(populate_existing=True)).first()
    if case is None:
        return False
    engine = get_engine()
    wf = engine.restore(case.wf_state, spec_for(case.process_version_id))
    engine.fire_due_timers(wf, now=now)
    sync_case(case, wf, now)
    if case.next_timer_due_at is not None and case.next_timer_due_at <= now:
        # A timer the engine does not fire (malformed by hand): park it, never loop on it.
        case.next_timer_due_at = None
    audit("case.timer", case=case, status=case.status.value, step=case.current_step)
    return True
