"""Who in a unit has a step: claim, release, reassign (one by one, or in bulk by the unit's leader).

An open work item belongs to a unit; any member whose role works its lane may
take it. A claim marks it as one member's, so two clerks do not work the same
step; only the claimer can complete it until it is released. A unit leader may
hand the unit's items to another member of the unit.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.clock import utcnow
from portal.extensions import db
from portal.models import PortalUser, WorkItem, WorkItemStatus
from portal.services._tx import transaction
from portal.services.audit import audit
from portal.services.errors import CaseNotFoundError, TaskNotYoursError, ValidationFailed
from portal.services.locks import lock_case
from portal.services.queries import lanes_for

LEADERS = {"unit_leader", "director", "Admin"}


def _open_item(item_id: int) -> WorkItem:
    item = db.session.get(WorkItem, item_id)
    if item is None:
        raise CaseNotFoundError()
    lock_case(item.case_id)  # claims race like completions: the case row serialises them
    db.session.refresh(item)
    if item.status != WorkItemStatus.OPEN:
        raise ValidationFailed(_l("This step is no longer open."))
    return item


def is_leader_of(user, item: WorkItem) -> bool:
    return bool(LEADERS & user.role_names) and user.org_unit is not None and user.org_unit.contains(item.org_unit)


@transaction
def claim(user, item_id: int) -> WorkItem:
    """Take a step of the unit for oneself."""
    item = _open_item(item_id)
    if not item.can_be_done_by(user, lanes_for(user)):
        raise TaskNotYoursError()
    if item.claimed_by_id == user.id:
        return item
    if item.claimed_by_id is not None:
        raise ValidationFailed(_l("%(who)s has already claimed this step; ask them or your unit leader."),
                               who=item.claimed_by.first_name or item.claimed_by.username)
    item.claimed_by_id, item.claimed_at = user.id, utcnow()
    audit("work.claim", user=user, case=item.case, work_item=item)
    return item


@transaction
def release(user, item_id: int) -> WorkItem:
    """Give a claimed step back to the unit (the claimer, or the unit's leader)."""
    item = _open_item(item_id)
    if item.claimed_by_id is None:
        return item
    if item.claimed_by_id != user.id and not is_leader_of(user, item):
        raise TaskNotYoursError()
    audit("work.release", user=user, case=item.case, work_item=item, was=item.claimed_by.username)
    item.claimed_by_id, item.claimed_at = None, None
    return item


@transaction
def reassign(user, item_ids: list[int], to_user_id: int) -> list[WorkItem]:
    """The unit's leader hands steps to a member of the unit (all of them or none)."""
    if not item_ids:
        raise ValidationFailed(_l("Choose at least one step."), field="item_ids")
    target = db.session.get(PortalUser, to_user_id)
    if target is None:
        raise ValidationFailed(_l("Choose a member of the unit."), field="to_user_id")
    target_lanes = lanes_for(target)
    items = []
    for item_id in sorted(set(item_ids)):
        item = _open_item(item_id)
        if not is_leader_of(user, item):
            raise TaskNotYoursError()
        if target.org_unit_id != item.org_unit_id or not item.can_be_done_by(target, target_lanes):
            raise ValidationFailed(_l("%(who)s is not a member of %(unit)s who works this step."),
                                   field="to_user_id", who=target.first_name or target.username,
                                   unit=item.org_unit.name if item.org_unit else "—")
        item.claimed_by_id, item.claimed_at = target.id, utcnow()
        audit("work.reassign", user=user, case=item.case, work_item=item, to=target.username)
        items.append(item)
    return items


def unit_members(user) -> list[PortalUser]:
    """The members of the user's own unit (whom a leader may hand work to)."""
    if user.org_unit_id is None:
        return []
    return list(db.session.scalars(select(PortalUser).where(PortalUser.org_unit_id == user.org_unit_id,
                                                            PortalUser.active.is_(True))
                                   .order_by(PortalUser.username)))
