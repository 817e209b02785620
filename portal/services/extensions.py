"""The deadline clock: 延期申请 (the lead unit asks, the director decides, within the legal maximum)
and lawful pauses (鉴定, waiting for a party) that add the stopped time to the deadline."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.clock import utcnow
from portal.extensions import db
from portal.models import (
    Case,
    CaseStatus,
    DeadlinePause,
    ExtensionRequest,
    PauseReason,
    RequestStatus,
    WorkItem,
    WorkItemKind,
    WorkItemStatus,
)
from portal.services._tx import transaction
from portal.services.audit import audit
from portal.services.channels import EXTENSION_LIMITS
from portal.services.deadlines import legal_due_at
from portal.services.errors import CaseNotFoundError, TaskNotYoursError, ValidationFailed, choice, required_text
from portal.services.locks import lock_case
from portal.services.queries import center_id, lanes_for, open_tasks
from portal.workdays import DayUnit

APPROVAL_LANE = "中心主任"


def days_left_to_extend(case: Case) -> int:
    """How many more days the channel's maximum still allows."""
    limit, _rule = EXTENSION_LIMITS[case.route]
    used = db.session.scalar(select(func.coalesce(func.sum(ExtensionRequest.days), 0)).where(
        ExtensionRequest.case_id == case.id, ExtensionRequest.status == RequestStatus.APPROVED))
    return limit - used


def _move_deadline(case: Case, due_at) -> None:
    """A new deadline for the case, followed by the open steps of its lead unit."""
    case.due_at = due_at
    for task in db.session.scalars(select(WorkItem).where(
            WorkItem.case_id == case.id, WorkItem.status == WorkItemStatus.OPEN,
            WorkItem.kind == WorkItemKind.TASK, WorkItem.org_unit_id == case.assigned_unit_id)):
        task.due_at = due_at


def can_request_extension(user, case: Case, steps: list[WorkItem] | None = None) -> bool:
    """The user's unit holds the open case (it may ask for more time, or stop and restart the clock).
    ``steps``: every step of the case, when the caller has read them."""
    return case.status != CaseStatus.CLOSED and case.due_at is not None and _holds_the_case(user, case, steps)


def _holds_the_case(user, case: Case, steps: list[WorkItem] | None = None) -> bool:
    """The user works an open step of the case in its unit (the unit that would ask for more time)."""
    lanes = lanes_for(user)
    return any(item.org_unit_id == case.assigned_unit_id and item.can_be_done_by(user, lanes)
               for item in open_tasks(case.id, steps))


@transaction
def request_extension(user, case_id: int, days: int, reason: str) -> ExtensionRequest:
    """Ask for ``days`` more; refused when past the legal maximum or while another request waits."""
    case = lock_case(case_id)
    if case is None:
        raise CaseNotFoundError()
    if case.status == CaseStatus.CLOSED or case.due_at is None or not _holds_the_case(user, case):
        raise TaskNotYoursError()
    reason = required_text(reason, "reason")
    left = days_left_to_extend(case)
    limit, rule = EXTENSION_LIMITS[case.route]
    if not isinstance(days, int) or days < 1 or days > left:
        raise ValidationFailed(_l("At most %(left)s more days may be asked (%(rule)s)."), field="days",
                               left=max(left, 0), rule=rule)
    if db.session.scalar(select(ExtensionRequest.id).where(ExtensionRequest.case_id == case.id,
                                                           ExtensionRequest.status == RequestStatus.PENDING)):
        raise ValidationFailed(_l("An extension request for this case is already waiting for a decision."))
    now = utcnow()
    item = WorkItem(case_id=case.id, task_id=f"extension-{case.id}-{int(now.timestamp())}", bpmn_id="extension",
                    name="延期审批", lane=APPROVAL_LANE, form_key="extension_decision", kind=WorkItemKind.APPROVAL,
                    org_unit_id=center_id(), status=WorkItemStatus.OPEN, created_at=now,
                    due_at=now + timedelta(days=1),
                    form_defaults=json.dumps({"request": f"{days}日：{reason}"}, ensure_ascii=False))
    db.session.add(item)
    db.session.flush()
    req = ExtensionRequest(case_id=case.id, days=days, reason=reason, requested_at=now,
                           requested_by_id=user.id, work_item_id=item.id, old_due_at=case.due_at)
    db.session.add(req)
    audit("case.extension_request", user=user, case=case, work_item=item, days=days)
    return req


def decide_extension(user, case: Case, item: WorkItem, data: dict[str, Any], now) -> Case:
    """The director approves (the deadline moves) or refuses; part of complete_task's transaction."""
    req = db.session.scalar(select(ExtensionRequest).where(ExtensionRequest.work_item_id == item.id))
    approve = data.get("approve") in (True, "yes", "1", "true")
    note = (data.get("note") or "").strip()
    if not approve and not note:
        raise ValidationFailed(_l("Say why the extension is refused."), field="note")
    if approve and req.days > days_left_to_extend(case):
        raise ValidationFailed(_l("Approving would pass the legal maximum; refuse or ask for fewer days."))
    req.status = RequestStatus.APPROVED if approve else RequestStatus.REFUSED
    req.decided_at, req.decided_by_id, req.decision_note = now, user.id, note or None
    if approve:
        req.new_due_at = legal_due_at(case.due_at, req.days, DayUnit.CALENDAR)
        _move_deadline(case, req.new_due_at)
    item.status, item.completed_at, item.completed_by_id = WorkItemStatus.DONE, now, user.id
    item.result = json.dumps({"approve": "yes" if approve else "no", "note": note}, ensure_ascii=False)
    audit("case.extension_decision", user=user, case=case, work_item=item, approved=approve, days=req.days)
    return case


def extensions_of(case_id: int) -> list[ExtensionRequest]:
    return list(db.session.scalars(select(ExtensionRequest).where(ExtensionRequest.case_id == case_id)
                                   .order_by(ExtensionRequest.requested_at)))


@transaction
def pause_deadline(user, case_id: int, reason: str, note: str) -> DeadlinePause:
    """Stop the case's clock for a lawful reason (鉴定, waiting for a party); refused if already stopped."""
    case = lock_case(case_id)
    if case.status == CaseStatus.CLOSED or case.due_at is None or not _holds_the_case(user, case):
        raise TaskNotYoursError()
    if case.paused_since is not None:
        raise ValidationFailed(_l("The deadline is already paused."))
    why = choice(PauseReason, reason, "reason")
    note = required_text(note, "note")
    now = utcnow()
    case.paused_since = now
    pause = DeadlinePause(case_id=case.id, reason=why, note=note, started_at=now, started_by_id=user.id)
    db.session.add(pause)
    audit("case.pause", user=user, case=case, reason=why.value)
    return pause


@transaction
def resume_deadline(user, case_id: int) -> Case:
    """Restart the clock: the deadline (and the unit's open steps) move by the time it was stopped."""
    case = lock_case(case_id)
    if case.paused_since is None:
        raise ValidationFailed(_l("The deadline is not paused."))
    if not _holds_the_case(user, case):
        raise TaskNotYoursError()
    now = utcnow()
    stopped = now - case.paused_since
    _move_deadline(case, case.due_at + stopped)
    pause = db.session.scalar(select(DeadlinePause).where(DeadlinePause.case_id == case.id,
                                                          DeadlinePause.ended_at.is_(None)))
    pause.ended_at, pause.ended_by_id = now, user.id
    case.paused_since = None
    audit("case.resume", user=user, case=case, paused_hours=round(stopped.total_seconds() / 3600, 1))
    return case


def pauses_of(case_id: int) -> list[DeadlinePause]:
    return list(db.session.scalars(select(DeadlinePause).where(DeadlinePause.case_id == case_id)
                                   .order_by(DeadlinePause.started_at)))
