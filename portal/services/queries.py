"""Read-only queries for pages: worklists, case lookup, visibility. They never commit."""
from __future__ import annotations

from sqlalchemy import bindparam, exists, or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal.extensions import db
from portal.models import Case, DisputeType, LaneRole, OrgKind, OrgUnit, Party, WorkItem, WorkItemStatus
from portal.roles import COUNTY_WIDE_ROLES
from portal.services.errors import CaseForbiddenError, CaseNotFoundError

_LANES = select(LaneRole.lane).where(LaneRole.role_name.in_(bindparam("role_names", expanding=True)))


def lanes_for(user) -> set[str]:
    """The BPMN lanes whose tasks the user's roles may work."""
    return set(db.session.scalars(_LANES, {"role_names": [r.name for r in user.roles]}))


def _subtree(user):
    return select(OrgUnit.id).where(OrgUnit.path.like((user.org_unit.path if user.org_unit else "/none/") + "%"))


def visible_cases_filter(user):
    """SQL condition: the cases this user may see."""
    if COUNTY_WIDE_ROLES & {r.name for r in user.roles}:
        return True
    if user.org_unit is None:
        return False
    subtree = _subtree(user)
    return or_(Case.assigned_unit_id.in_(subtree), Case.township_id.in_(subtree), Case.village_id.in_(subtree),
               exists().where(WorkItem.case_id == Case.id, WorkItem.org_unit_id.in_(subtree)))


def worklist(user, done: bool = False, limit: int = 200) -> list[WorkItem]:
    """Open items the user may work, or the items the user completed."""
    query = select(WorkItem).options(joinedload(WorkItem.case).joinedload(Case.dispute_type),
                                     joinedload(WorkItem.org_unit))
    if done:
        query = query.where(WorkItem.completed_by_id == user.id).order_by(WorkItem.completed_at.desc())
    else:
        lanes = lanes_for(user)
        query = query.where(WorkItem.status == WorkItemStatus.OPEN, WorkItem.lane.in_(lanes))
        if user.org_unit is not None:
            query = query.where(or_(WorkItem.org_unit_id.is_(None), WorkItem.org_unit_id.in_(_subtree(user))))
        else:
            query = query.where(WorkItem.org_unit_id.is_(None))
        query = query.order_by(WorkItem.due_at.is_(None), WorkItem.due_at, WorkItem.created_at)
    return list(db.session.scalars(query.limit(limit)).unique())


def case_for(user, case_id: int) -> Case:
    """The case with its parties, if the user may see it."""
    case = db.session.scalar(select(Case).options(selectinload(Case.parties)).where(Case.id == case_id))
    if case is None:
        raise CaseNotFoundError()
    allowed = db.session.scalar(select(Case.id).where(Case.id == case_id, visible_cases_filter(user)))
    if allowed is None:
        raise CaseForbiddenError()
    return case


def check_case_visible(user, case_id: int) -> None:
    """Raise CaseForbiddenError unless the user may see the case (one query, nothing loaded)."""
    if visible_cases_filter(user) is True:
        return
    if db.session.scalar(select(Case.id).where(Case.id == case_id, visible_cases_filter(user))) is None:
        raise CaseForbiddenError()


def case_by_code(user, code: str) -> Case:
    """Find a case by its code (一案一码), e.g. MT2026000123."""
    case_id = db.session.scalar(select(Case.id).where(Case.code == (code or "").strip().upper()))
    if case_id is None:
        raise CaseNotFoundError()
    return case_for(user, case_id)


def case_history(case_id: int) -> list[WorkItem]:
    return list(db.session.scalars(select(WorkItem).options(joinedload(WorkItem.completed_by))
                                   .where(WorkItem.case_id == case_id).order_by(WorkItem.id)))


def work_item(item_id: int) -> WorkItem | None:
    return db.session.get(WorkItem, item_id)


def dispute_types() -> list[DisputeType]:
    return list(db.session.scalars(select(DisputeType).options(joinedload(DisputeType.parent))
                                   .order_by(DisputeType.code)))


def org_units(*kinds: OrgKind) -> list[OrgUnit]:
    return list(db.session.scalars(select(OrgUnit).where(OrgUnit.kind.in_(kinds)).order_by(OrgUnit.code)))


def parties_named(name: str) -> list[Party]:
    return list(db.session.scalars(select(Party).where(Party.name == name)))


def org_unit_id(code: str | None) -> int | None:
    return db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == code)) if code else None


def case_score(case_id: int):
    from portal.models import CaseScore
    return db.session.scalar(select(CaseScore).where(CaseScore.case_id == case_id))
