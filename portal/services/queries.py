"""Read-only queries for pages: worklists, case lookup, visibility. They never commit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Select, and_, bindparam, exists, func, or_, select, union_all
from sqlalchemy.orm import aliased, joinedload, selectinload, with_expression

from portal.clock import utcnow
from portal.extensions import db
from portal.models import (
    OPEN_INLINE,
    Case,
    CaseStatus,
    DisputeType,
    LaneRole,
    OrgKind,
    OrgUnit,
    Party,
    PortalUser,
    WorkItem,
    WorkItemKind,
    WorkItemStatus,
)
from portal.request_cache import request_cache
from portal.roles import COUNTY_WIDE_ROLES
from portal.services._tx import read_apart
from portal.services.errors import CaseForbiddenError, CaseNotFoundError

_LANES = select(LaneRole.lane).where(LaneRole.role_name.in_(bindparam("role_names", expanding=True)))


def lanes_for(user) -> set[str]:
    """The BPMN lanes whose tasks the user's roles may work (kept with the request's security snapshot:
    the lane table is one of the security tables; for the request alone when there is no snapshot)."""
    from flask import current_app
    names = frozenset(r.name for r in user.roles)
    snapshot = current_app.appbuilder.sm.security_snapshot()
    known = snapshot.lanes if snapshot is not None else request_cache("lanes")
    if names not in known:
        known[names] = frozenset(db.session.scalars(_LANES, {"role_names": sorted(names)}))
    return set(known[names])


def _subtree(user):
    return select(OrgUnit.id).where(OrgUnit.path.like((user.org_unit.path if user.org_unit else "/none/") + "%"))


# The steps a unit was given, in an alias of their own (callers may already select work items); made once:
# a new alias adapts its columns again on first use, which cost 2 ms a page.
_VISIBLE_STEP = aliased(WorkItem, name="visible_step")


def visible_cases_filter(user):
    """SQL condition: the cases this user may see -- the one place scoping is decided.

    The county's center sees every case; a township its own and its villages'; a village
    its own; a department (or committee, studio) the cases it was dispatched or consulted
    on. A unit accused in a 检举控告 matter (or a unit above it) never sees that case."""
    if COUNTY_WIDE_ROLES & {r.name for r in user.roles}:
        return True
    if user.org_unit is None:
        return False
    subtree = _subtree(user)
    step = _VISIBLE_STEP
    return and_(or_(Case.assigned_unit_id.in_(subtree), Case.township_id.in_(subtree), Case.village_id.in_(subtree),
                    exists().where(step.case_id == Case.id, step.org_unit_id.in_(subtree))),
                or_(Case.accused_unit_id.is_(None), Case.accused_unit_id.not_in(_ancestors_and_self(user))))


def _ancestors_and_self(user) -> list[int]:
    path = user.org_unit.path if user.org_unit else "/"
    return [int(p) for p in path.strip("/").split("/") if p.isdigit()] or [-1]


@dataclass
class Filters:
    """What a worklist or case list is narrowed to (all optional)."""

    code: str = ""
    party: str = ""
    dispute_type_id: int | None = None
    township_id: int | None = None
    status: str = ""
    overdue: bool = False

    def any(self) -> bool:
        """Whether any filter is set."""
        return self != Filters()

    def apply(self, query, now):
        if self.code.strip():
            query = query.where(Case.code.contains(self.code.strip().upper()))
        if self.party.strip():
            query = query.where(exists().where(Party.case_id == Case.id, Party.name.contains(self.party.strip())))
        if self.dispute_type_id:
            query = query.where(or_(Case.dispute_type_id == self.dispute_type_id, Case.dispute_type_id.in_(
                select(DisputeType.id).where(DisputeType.parent_id == self.dispute_type_id))))
        if self.township_id:
            query = query.where(Case.township_id == self.township_id)
        if self.status:
            query = query.where(Case.status == CaseStatus(self.status))
        if self.overdue:
            query = query.where(Case.due_at < now, Case.status != CaseStatus.CLOSED)
        return query


class Named(NamedTuple):
    """A unit, dispute type or township as a list shows it: its name."""
    name: str


class EntryCase(NamedTuple):
    """A worklist line's case: what the line shows of it."""
    id: int
    code: str
    title: str
    status: CaseStatus
    dispute_type: Named
    township: Named


class Claimer(NamedTuple):
    first_name: str | None
    username: str


class WorklistEntry(NamedTuple):
    """One line of a worklist: a step and what the list shows of its case, unit and claimer, read as
    plain rows (the steps as mapped objects, with their cases, units and users, cost three times as much)."""
    id: int
    case_id: int
    name: str
    lane: str | None
    form_key: str
    kind: WorkItemKind
    status: WorkItemStatus
    created_at: datetime
    due_at: datetime | None
    completed_at: datetime | None
    claimed_by_id: int | None
    case: EntryCase
    org_unit: Named | None
    claimed_by: Claimer | None


def worklist(user, tab: str = "todo", filters: Filters | None = None, limit: int = 200,
             offset: int = 0) -> list[WorklistEntry]:
    """The user's work items: ``todo`` (open steps of the unit not claimed by another, and the user's
    claims), ``supervised`` (open supervision cards to answer) or ``done`` (what the user completed)."""
    if tab == "done":
        query = _scoped(select(WorkItem.id).where(WorkItem.completed_by_id == user.id), user, filters) \
            .order_by(*_DONE_ORDER)
        ids, page = list(db.session.scalars(query.limit(limit).offset(offset))), _DONE_PAGE
    else:
        ids, page = _open_item_ids(user, tab, filters, limit, offset), _OPEN_PAGE
    if not ids:
        return []
    return [_entry(row) for row in db.session.execute(page, {"ids": ids})]


def _entry(row) -> WorklistEntry:
    (item_id, case_id, name, lane, form_key, kind, status, created_at, due_at, completed_at, claimed_by_id,
     code, title, case_status, type_name, township_name, unit_name, first_name, username) = row
    return WorklistEntry(
        item_id, case_id, name, lane, form_key, kind, status, created_at, due_at, completed_at, claimed_by_id,
        EntryCase(case_id, code, title, case_status, Named(type_name), Named(township_name)),
        Named(unit_name) if unit_name is not None else None,
        Claimer(first_name, username) if username is not None else None)


# Open steps come soonest deadline first (those without one last), then oldest first; done ones last done first.
_DEADLINE_ORDER = (WorkItem.due_at.asc().nulls_last(), WorkItem.created_at, WorkItem.id)
_DONE_ORDER = (WorkItem.completed_at.desc(), WorkItem.id.desc())
_ENTRY_UNIT, _ENTRY_TOWNSHIP = aliased(OrgUnit, name="entry_unit"), aliased(OrgUnit, name="entry_township")
# One page of steps by their ids, with what the worklist shows of them (built once).
_ENTRIES = (
    select(WorkItem.id, WorkItem.case_id, WorkItem.name, WorkItem.lane, WorkItem.form_key, WorkItem.kind,
           WorkItem.status, WorkItem.created_at, WorkItem.due_at, WorkItem.completed_at, WorkItem.claimed_by_id,
           Case.code, Case.title, Case.status, DisputeType.name, _ENTRY_TOWNSHIP.name, _ENTRY_UNIT.name,
           PortalUser.first_name, PortalUser.username)
    .join(Case, Case.id == WorkItem.case_id).join(DisputeType, DisputeType.id == Case.dispute_type_id)
    .join(_ENTRY_TOWNSHIP, _ENTRY_TOWNSHIP.id == Case.township_id)
    .outerjoin(_ENTRY_UNIT, _ENTRY_UNIT.id == WorkItem.org_unit_id)
    .outerjoin(PortalUser, PortalUser.id == WorkItem.claimed_by_id)
    .where(WorkItem.id.in_(bindparam("ids", expanding=True))))
_OPEN_PAGE = _ENTRIES.order_by(*_DEADLINE_ORDER)
_DONE_PAGE = _ENTRIES.order_by(*_DONE_ORDER)


def _scoped(query, user, filters: Filters | None):
    """``query`` of work items narrowed to the cases the user may see, and to the page's filters."""
    visible = visible_cases_filter(user)
    if visible is True and (filters is None or not filters.any()):
        return query  # every step has its case: joining the cases would narrow nothing
    query = query.join(WorkItem.case).where(visible)
    return filters.apply(query, utcnow()) if filters else query


def _open_item_ids(user, tab: str, filters: Filters | None, limit: int, offset: int) -> list[int]:
    """The ids of one page of the user's open steps (or cards), in deadline order.

    Each of the user's lanes is read on its own, in the order of the (status, lane, due, created)
    index, as far as the page reaches, and the lanes' heads are merged: a single scan in deadline
    order would step over every other lane's dated steps to reach a lane whose steps have none.
    Without filters (a worklist as it opens) the statement is built once per lanes, tab and place in the
    county, and kept: building it took 2 to 3 ms of a worklist page."""
    lanes = tuple(sorted(lanes_for(user)))
    if not lanes:
        return []
    params = {"user_id": user.id, "reach": offset + limit, "page_size": limit, "skip": offset}
    if filters is not None and filters.any():
        return list(db.session.scalars(_open_ids_statement(user, tab, filters, lanes), params))
    key = (lanes, tab, user.org_unit.path if user.org_unit is not None else None, visible_cases_filter(user) is True)
    statement = _OPEN_IDS.get(key)
    if statement is None:
        if len(_OPEN_IDS) >= 1000:
            _OPEN_IDS.clear()
        statement = _OPEN_IDS[key] = _open_ids_statement(user, tab, None, lanes)
    return list(db.session.scalars(statement, params))


_OPEN_IDS: dict[tuple, Select] = {}


def _open_ids_statement(user, tab: str, filters: Filters | None, lanes: tuple[str, ...]) -> Select:
    """The statement of ``_open_item_ids`` (parameters: user_id, reach = offset + limit, page_size, skip)."""
    if user.org_unit is not None:
        unit_ok = or_(WorkItem.org_unit_id.is_(None), WorkItem.org_unit_id.in_(_subtree(user)))
    else:
        unit_ok = WorkItem.org_unit_id.is_(None)
    cards = WorkItem.kind == WorkItemKind.CARD
    mine = bindparam("user_id")
    heads = [_scoped(select(WorkItem.id, WorkItem.due_at, WorkItem.created_at).where(
                WorkItem.status == WorkItemStatus.OPEN, WorkItem.lane == lane,
                or_(WorkItem.claimed_by_id.is_(None), WorkItem.claimed_by_id == mine), unit_ok,
                cards if tab == "supervised" else ~cards), user, filters)
             .order_by(*_DEADLINE_ORDER).limit(bindparam("reach")).subquery()
             for lane in lanes]
    merged = union_all(*(select(h) for h in heads)).subquery() if len(heads) > 1 else heads[0]
    return select(merged.c.id).order_by(merged.c.due_at.asc().nulls_last(), merged.c.created_at, merged.c.id) \
        .limit(bindparam("page_size")).offset(bindparam("skip"))


_UNIT_CASE_LOADS = (joinedload(Case.dispute_type), joinedload(Case.township), joinedload(Case.assigned_unit))
_UNIT_CASE_LOADS_PARTIES = (*_UNIT_CASE_LOADS, selectinload(Case.parties))


def unit_cases(user, filters: Filters | None = None, limit: int = 500, offset: int = 0,
               parties: bool = False) -> list[Case]:
    """Every case the user's unit may see (the county's center: all), newest first; with their
    parties read too when ``parties`` (the list page shows none)."""
    query = select(Case).options(*(_UNIT_CASE_LOADS_PARTIES if parties else _UNIT_CASE_LOADS)) \
        .where(visible_cases_filter(user)).order_by(Case.registered_at.desc(), Case.id.desc())
    if filters:
        query = filters.apply(query, utcnow())
    return list(db.session.scalars(query.limit(limit).offset(offset)).unique())


def repeat_cases(user, case: Case) -> list[Case]:
    """Other cases (that the user may see) with a party of the same ID number."""
    numbers = [p.id_number for p in case.parties if p.id_number]
    if not numbers or case.has_repeats is False:  # read with the case by its page: most cases have none
        return []
    visible = visible_cases_filter(user)
    query = _REPEATS if visible is True else _REPEATS.where(visible)
    return list(db.session.scalars(query, {"case_id": case.id, "numbers": numbers}))


_REPEATS = (select(Case).where(Case.id != bindparam("case_id"), Case.id.in_(
    select(Party.case_id).where(Party.id_number.in_(bindparam("numbers", expanding=True)))))
    .order_by(Case.registered_at.desc()).limit(50))


def repeat_parties(limit: int = 200) -> list[tuple[str, str, int, list[Case]]]:
    """ID numbers found in more than one case: (ID number, a name, how many cases, the cases)."""
    cases = func.count(func.distinct(Party.case_id))
    rows = db.session.execute(select(Party.id_number, func.min(Party.name), cases)
                              .where(Party.id_number.is_not(None)).group_by(Party.id_number)
                              .having(cases > 1).order_by(cases.desc()).limit(limit)).all()
    return [(number, name, count, list(db.session.scalars(
        select(Case).where(Case.id.in_(select(Party.case_id).where(Party.id_number == number)))
        .order_by(Case.registered_at))))
        for number, name, count in rows]


def case_for(user, case_id: int) -> Case:
    """The case with its parties, if the user may see it."""
    visible = visible_cases_filter(user)
    query = _CASE_PAGE if visible is True else _CASE_PAGE.where(visible)
    case = db.session.scalars(query, {"case_id": case_id}).unique().one_or_none()
    if case is not None:
        return case
    if db.session.scalar(select(Case.id).where(Case.id == case_id)) is None:
        raise CaseNotFoundError()
    raise CaseForbiddenError()


# What a case's pages show of it besides its own row, read with it, in one query (a second one for the
# parties cost more than the rows the join repeats: a case has two or three parties).
_CASE_PAGE_LOADS = (joinedload(Case.parties), joinedload(Case.township), joinedload(Case.village),
                    joinedload(Case.assigned_unit), joinedload(Case.dispute_type).joinedload(DisputeType.parent))
# Statements that every case page runs, built once (building one costs more than running it).
_ITS_PARTY, _OTHER_PARTY = aliased(Party), aliased(Party)
_HAS_REPEATS = select(_OTHER_PARTY.id).where(_OTHER_PARTY.case_id != Case.id, _OTHER_PARTY.id_number.in_(
    select(_ITS_PARTY.id_number).where(_ITS_PARTY.case_id == Case.id, _ITS_PARTY.id_number.is_not(None))
    .correlate(Case))).correlate(Case).exists()
_CASE_PAGE = select(Case).options(*_CASE_PAGE_LOADS, with_expression(Case.has_repeats, _HAS_REPEATS)) \
    .where(Case.id == bindparam("case_id"))
_HAS_REPEATS_OF = select(_HAS_REPEATS).where(Case.id == bindparam("case_id"))
# (who did a step is shown by name: their own unit, which a user's row joins by default, is not read)
_CASE_HISTORY = (select(WorkItem).options(joinedload(WorkItem.completed_by).lazyload(PortalUser.org_unit),
                                          joinedload(WorkItem.branch), joinedload(WorkItem.org_unit))
                 .where(WorkItem.case_id == bindparam("case_id")).order_by(WorkItem.id))
_KINDS_PRESENT: dict[tuple[type, ...], Select] = {}


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


def has_repeats(case_id: int) -> bool:
    """Whether a party of the case has its ID number in another case (as the case page reads it)."""
    return bool(db.session.scalar(_HAS_REPEATS_OF, {"case_id": case_id}))


def open_tasks(case_id: int, steps: list[WorkItem] | None = None) -> list[WorkItem]:
    """The case's open steps (tasks, not supervision cards): of ``steps`` (every step of the case) when
    the caller has read them, else read."""
    if steps is None:
        return list(db.session.scalars(select(WorkItem).where(
            WorkItem.case_id == case_id, WorkItem.status == OPEN_INLINE, WorkItem.kind == WorkItemKind.TASK)))
    return [i for i in steps if i.status == WorkItemStatus.OPEN and i.kind == WorkItemKind.TASK]


def case_history(case_id: int) -> list[WorkItem]:
    """Every step of the case, open and done, in the order they came, with who did them and where."""
    return list(db.session.scalars(_CASE_HISTORY, {"case_id": case_id}))


def work_item(item_id: int, with_case: bool = True) -> WorkItem | None:
    """The step, with its case as the step's page shows it (``with_case``; a step submitted is completed
    by a service that reads its case itself, under the case's lock)."""
    if not with_case:
        return db.session.scalars(_STEP, {"item_id": item_id}).one_or_none()
    return db.session.scalars(_STEP_PAGE, {"item_id": item_id}).unique().one_or_none()


# Built once, as the case page's (``Session.get`` builds its statement each time, a third of its cost)
_STEP = select(WorkItem).where(WorkItem.id == bindparam("item_id"))
_STEP_PAGE = select(WorkItem).options(joinedload(WorkItem.case).options(*_CASE_PAGE_LOADS)) \
    .where(WorkItem.id == bindparam("item_id"))


def dispute_types() -> list[DisputeType]:
    """Every dispute type, each with its parent, in code order (read only: kept across requests)."""
    return reference_list(("dispute_types",), lambda session: session.scalars(
        select(DisputeType).options(joinedload(DisputeType.parent)).order_by(DisputeType.code)).unique())


def org_units(*kinds: OrgKind) -> list[OrgUnit]:
    """The units of ``kinds``, in code order (read only: kept across requests)."""
    return reference_list(("org_units", *sorted(k.value for k in kinds)), lambda session: session.scalars(
        select(OrgUnit).where(OrgUnit.kind.in_(kinds)).order_by(OrgUnit.code)))


def reference_list(key: tuple, read) -> list:
    """A list of the county's reference rows (units, dispute types) that forms and filters offer, read
    by ``read(session)``. Kept with the request's security snapshot: every change to those tables raises
    the security version (database triggers), so the next request reads them again. The rows are
    detached, with what ``read`` loaded: they are for reading, never for changing or relating to others.
    Outside a request (commands, services in tests), read each time."""
    from flask import current_app
    snapshot = current_app.appbuilder.sm.security_snapshot()
    if snapshot is None:
        return list(read(db.session))
    if key not in snapshot.reference:
        # read after the version: never older than the snapshot
        snapshot.reference[key] = read_apart(lambda session: tuple(read(session)))
    return list(snapshot.reference[key])  # the caller's own list: the kept one stays as read


def reference_row(model: type[DisputeType] | type[OrgUnit], row_id: int | None):
    """A dispute type (with its parent) or a unit by its id, or None: from the rows kept with the request's
    security snapshot, as ``reference_list`` keeps them (a registration checks three of them without a
    query); outside a request, read."""
    from flask import current_app
    if row_id is None:
        return None
    snapshot = current_app.appbuilder.sm.security_snapshot()
    if snapshot is None:
        return db.session.get(model, row_id)
    key = ("by_id", model.__name__)
    if key not in snapshot.reference:
        query = select(model).options(joinedload(DisputeType.parent)) if model is DisputeType else select(model)
        # read after the version: never older than the snapshot
        snapshot.reference[key] = read_apart(lambda session: {row.id: row for row in session.scalars(query).unique()})
    return snapshot.reference[key].get(row_id)


def parties_named(name: str) -> list[Party]:
    return list(db.session.scalars(select(Party).where(Party.name == name)))


def org_unit_id(code: str | None) -> int | None:
    return db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == code)) if code else None


def kinds_present(case_id: int, models: tuple[type, ...]) -> set[type]:
    """Which of ``models`` (tables with a ``case_id``) hold rows of the case, in one query: a page that
    shows many of a case's kinds of record reads only those the case has (most have none of most)."""
    query = _KINDS_PRESENT.get(models)
    if query is None:  # one per tuple of models the code names
        query = _KINDS_PRESENT[models] = select(*(exists().where(m.case_id == bindparam("case_id"))
                                                  for m in models))
    row = db.session.execute(query, {"case_id": case_id}).one()
    return {model for model, present in zip(models, row, strict=True) if present}


def case_score(case_id: int):
    from portal.models import CaseScore
    return db.session.scalar(select(CaseScore).where(CaseScore.case_id == case_id))


def center_id() -> int | None:
    """The county center's org unit (it never moves, so it is looked up once per app)."""
    from flask import current_app
    center = current_app.extensions.get("portal_center_id")
    if center is None:
        center = db.session.scalar(select(OrgUnit.id).where(OrgUnit.kind == OrgKind.CENTER).limit(1))
        if center is not None:
            current_app.extensions["portal_center_id"] = center
    return center
