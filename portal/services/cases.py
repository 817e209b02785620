"""Registering a case and completing its steps.

Each public function is one unit of work: the case row, its workflow state,
its work items and the audit rows are written in one transaction, under a lock
on the case row (SELECT … FOR UPDATE on PostgreSQL, the write lock on SQLite)
plus the ORM's version check on ``lock_version``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import undefer
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from portal.bpmn import TaskNotReadyError, iso_duration
from portal.clock import utcnow
from portal.extensions import db
from portal.idcard import is_valid_id_number
from portal.models import (
    OPEN_INLINE,
    Case,
    CaseStatus,
    DisputeType,
    LawfulChannel,
    OrgKind,
    OrgUnit,
    Party,
    PartyKind,
    PlaceKind,
    SourceChannel,
    WorkItem,
    WorkItemKind,
    WorkItemStatus,
)
from portal.services._tx import transaction
from portal.services.archive import assign_dossier_number
from portal.services.audit import audit
from portal.services.engine import get_engine, spec_for
from portal.services.errors import (
    CaseNotFoundError,
    ClaimedByOtherError,
    StaleCaseError,
    StepNotOpenError,
    TaskAlreadyDoneError,
    TaskNotYoursError,
    ValidationFailed,
    required_text,
)
from portal.services.formsteps import step_for
from portal.services.locks import WRITE_LOCK, write_case
from portal.services.processes import published_version_id
from portal.services.queries import center_id, has_repeats, lanes_for, reference_row
from portal.services.steps import STEPS

MAX_AMOUNT = Decimal("1e12")  # what the amount columns (14 digits, 2 decimals) hold


@dataclass
class PartyData:
    kind: str
    name: str
    id_number: str = ""
    phone: str = ""
    address: str = ""
    ethnicity: str = ""    # 民族
    occupation: str = ""   # 职业或职务 / 工作单位


@dataclass
class IntakeData:
    """What the one window records (already cleaned by the intake form)."""

    title: str
    dispute_type_id: int
    township_id: int
    village_id: int | None
    place_kind: str
    place_detail: str
    facts: str
    requests: str
    amount: str | Decimal | None
    people_count: int
    source_channel: str
    parties: list[PartyData] = field(default_factory=list)
    route: str = "mediation"
    accused_unit_id: int | None = None  # 检举控告: the body accused, which must never see the case


def _check_intake(data: IntakeData) -> tuple[DisputeType, OrgUnit, OrgUnit | None, Decimal | None]:
    # as the form offered them (kept with the request's security snapshot, no query)
    dtype = reference_row(DisputeType, data.dispute_type_id)
    if dtype is None or dtype.parent_id is None:
        raise ValidationFailed(_l("Choose a dispute type of the second level."), field="dispute_type_id")
    township = reference_row(OrgUnit, data.township_id)
    if township is None or township.kind != OrgKind.TOWNSHIP:
        raise ValidationFailed(_l("Choose a township."), field="township_id")
    village = reference_row(OrgUnit, data.village_id) if data.village_id else None
    if data.village_id and (village is None or village.kind != OrgKind.VILLAGE or village.parent_id != township.id):
        raise ValidationFailed(_l("The village is not in the chosen township."), field="village_id")
    kinds = [p.kind for p in data.parties]
    if PartyKind.APPLICANT.value not in kinds or PartyKind.RESPONDENT.value not in kinds:
        raise ValidationFailed(_l("A case needs at least one applicant and one respondent."), field="parties")
    for p in data.parties:
        if p.id_number and not is_valid_id_number(p.id_number):
            raise ValidationFailed(_l("ID number %(n)s is not valid (GB 11643 checksum)."), field="parties",
                                   n=p.id_number)
    try:
        amount = Decimal(str(data.amount)) if data.amount not in (None, "") else None
    except InvalidOperation:
        raise ValidationFailed(_l("The amount is not a number."), field="amount") from None
    if amount is not None and (not amount.is_finite() or amount >= MAX_AMOUNT):  # NaN, Infinity, 1E+30 …
        raise ValidationFailed(_l("The amount is not a number."), field="amount")
    if amount is not None and amount < 0:
        raise ValidationFailed(_l("The amount cannot be negative."), field="amount")
    try:
        PlaceKind(data.place_kind), SourceChannel(data.source_channel), LawfulChannel(data.route)
    except ValueError:
        raise ValidationFailed(_l("Choose a valid value."), field="source_channel") from None
    if data.accused_unit_id and reference_row(OrgUnit, data.accused_unit_id) is None:
        raise ValidationFailed(_l("Choose the accused unit from the list."), field="accused_unit_id")
    return dtype, township, village, amount


@transaction(keep_loaded=True)
def register_case(user, data: IntakeData) -> Case:
    """Register a dispute at the one window: create the case, start its workflow, complete intake.
    The page goes on with the case as written (its code, its parties), without reading it again."""
    return open_case(user, data)


def open_case(user, data: IntakeData) -> Case:
    """``register_case`` inside the caller's transaction (a grid member's report registers its case
    together with its photos and its routing, all or nothing)."""
    dtype, township, village, amount = _check_intake(data)
    version_id = published_version_id()
    engine = get_engine()
    now = utcnow()
    case = Case(title=data.title.strip(), dispute_type=dtype, dispute_type_id=dtype.id, township=township,
                township_id=township.id, village=village, village_id=village.id if village else None,
                place_kind=PlaceKind(data.place_kind), place_detail=data.place_detail.strip() or None,
                facts=data.facts.strip(), requests=data.requests.strip(), amount=amount,
                people_count=data.people_count, source_channel=SourceChannel(data.source_channel),
                route=LawfulChannel(data.route), accused_unit_id=data.accused_unit_id or None,
                status=CaseStatus.REGISTERED, registered_by_id=user.id, registered_at=now,
                process_version_id=version_id, wf_state="{}", updated_at=now)
    case.parties = [Party(kind=PartyKind(p.kind), seq=i, name=p.name.strip(),
                          id_number=p.id_number.strip().upper() or None, phone=p.phone.strip() or None,
                          address=p.address.strip() or None, ethnicity=(p.ethnicity or "").strip() or None,
                          occupation=(p.occupation or "").strip() or None)
                    for i, p in enumerate(data.parties)]
    db.session.add(case)
    db.session.flush()  # the case's id, for its code
    # The rest is written by the one flush below: a query in between would write the case again each time.
    with db.session.no_autoflush:
        case.code = _case_code(case, now)
        _note_visits(case)
        _note_repeats(case)
        wf = engine.start(spec_for(version_id), now=now)
        intake = next((t for t in engine.ready_user_tasks(wf) if t.form_key == "intake"), None)
        if intake is None:
            raise ValidationFailed(_l("The published process does not begin with the intake step."))
        engine.complete(wf, intake.id, STEPS["intake"](case, {}), now=now)
        item_id = db.session.scalar(_NEW_ITEMS.returning(WorkItem.__table__.c.id), {
            "case_id": case.id, "task_id": intake.id, "bpmn_id": intake.bpmn_id, "name": intake.name,
            "lane": intake.lane, "form_key": "intake", "kind": WorkItemKind.TASK, "org_unit_id": center_id(),
            "status": WorkItemStatus.DONE, "created_at": now, "completed_at": now, "completed_by_id": user.id,
            "result": json.dumps({"title": case.title}, ensure_ascii=False)})  # before the steps it leads to
        sync_case(case, wf, now, open_items=[])  # a new case has no open step yet
    db.session.flush()
    audit("case.register", user=user, case=case, work_item_id=item_id, code=case.code)
    return case


@transaction(keep_loaded=True)
def complete_task(user, work_item_id: int, data: dict[str, Any]) -> Case:
    """Complete one step of a case with the form's data; refuse if it is not the user's or not open.
    What it loaded stays as written after the commit (the page redirects; the API answers with the case
    as it now is): marking each of its objects to be read again cost more than the commit's write."""
    item = db.session.get(WorkItem, work_item_id)
    if item is None:
        raise CaseNotFoundError()
    case, item, open_items = _lock_case_of(item)
    if item.status != WorkItemStatus.OPEN:
        who = item.completed_by.username if item.completed_by else "?"
        raise TaskAlreadyDoneError(who=who, when=item.completed_at or "?")
    if not item.can_be_done_by(user, lanes_for(user)):
        raise TaskNotYoursError()
    if item.claimed_by_id is not None and item.claimed_by_id != user.id:
        raise ClaimedByOtherError(who=item.claimed_by.first_name or item.claimed_by.username)
    now = utcnow()
    if item.kind == WorkItemKind.CARD:
        return _answer_card(user, case, item, data, now)
    if item.kind == WorkItemKind.APPROVAL:
        from portal.services.extensions import decide_extension
        return decide_extension(user, case, item, data, now)
    if item.kind == WorkItemKind.DELIVERY:
        from portal.services.delivery import record_paper_delivery
        return record_paper_delivery(user, case, item, data, now)
    if item.branch_id is not None:
        from portal.services.branches import complete_branch_step
        return complete_branch_step(user, case, item, data, now, open_items)
    _complete_step(user, case, item, data, now, open_items)
    if data.get("assistance_needs"):  # the handler ticked what the person needs: start those branches
        from portal.services.branches import start_for_needs
        start_for_needs(user, case, list(data["assistance_needs"]), now)
    return case


def complete_step_by_rule(user, case: Case, form_key: str, data: dict[str, Any], now, rule: str) -> WorkItem:
    """Complete the case's open ``form_key`` step inside the caller's transaction, as ``user`` but on
    a rule the calling service answers for (a grid member's report sends its case to the township,
    or closes the case it settled on the spot): the step's own checks run as in ``complete_task``,
    the lane and unit check does not; the audit row names the ``rule``. Refused when that step is not open."""
    with db.session.no_autoflush:
        item = db.session.scalar(select(WorkItem).where(
            WorkItem.case_id == case.id, WorkItem.status == OPEN_INLINE, WorkItem.form_key == form_key,
            WorkItem.kind == WorkItemKind.TASK, WorkItem.branch_id.is_(None)))
    if item is None:
        raise StepNotOpenError()
    _complete_step(user, case, item, data, now, None, rule=rule)
    return item


def _complete_step(user, case: Case, item: WorkItem, data: dict[str, Any], now, open_items, **detail) -> None:
    step = step_for(item.form_key, STEPS)
    if step is None:
        raise ValidationFailed(_l("This step has no form in this portal."))
    # Everything is written below, once (a query in between would otherwise flush the case early:
    # one more UPDATE, and a version conflict raised outside the StaleCaseError check).
    with db.session.no_autoflush:
        task_data = step(case, data, user)
        engine = get_engine()
        wf = engine.restore(case.wf_state, spec_for(case.process_version_id))
        try:
            engine.complete(wf, item.task_id, task_data, now=now)
        except TaskNotReadyError:
            raise StepNotOpenError() from None
        finish_item(item, user, now, {k: v for k, v in data.items() if k != "csrf_token"})
        sync_case(case, wf, now, open_items)
    try:
        write_case(case)
        db.session.flush()  # what else the step changed (a party it added, a step it cancelled)
    except StaleDataError:
        raise StaleCaseError() from None
    audit("case.step", user=user, case=case, work_item=item, step=item.bpmn_id, status=case.status.value, **detail)


# Built once: a step's work items are written by plain statements, not the unit of work (it costs several
# times the statement, and every step writes two items). The bind names differ from the columns' (SET).
_FINISH_ITEM = update(WorkItem.__table__).where(WorkItem.__table__.c.id == bindparam("item_id")).values(
    status=bindparam("done"), completed_at=bindparam("at"), completed_by_id=bindparam("by"), result=bindparam("what"))
_NEW_ITEMS = insert(WorkItem.__table__)


def finish_item(item: WorkItem, user, now, result: dict[str, Any]) -> None:
    """Mark the step done by ``user`` with what its form recorded: one UPDATE of its row, and the loaded
    item says the same (as read: nothing left for a flush to write)."""
    values = {"status": WorkItemStatus.DONE, "completed_at": now, "completed_by_id": user.id,
              "result": json.dumps(result, ensure_ascii=False, default=str)}
    db.session.connection().execute(_FINISH_ITEM, {"item_id": item.id, "done": values["status"], "at": now,
                                                   "by": user.id, "what": values["result"]})
    for key, value in values.items():
        set_committed_value(item, key, value)


def _answer_card(user, case: Case, item: WorkItem, data: dict[str, Any], now) -> Case:
    """The unit's leader answers a supervision card: what the unit will do, by when."""
    answer = required_text(data.get("answer"), "answer")
    item.status, item.completed_at, item.completed_by_id = WorkItemStatus.DONE, now, user.id
    item.result = json.dumps({"answer": answer}, ensure_ascii=False)
    audit("case.card_answer", user=user, case=case, work_item=item)
    return case


# Built once: every step runs them. FOR NO KEY UPDATE: writers of the case wait for each other, while a row
# that refers to the case (a notification, an audit entry) is still written meanwhile -- under FOR UPDATE
# its key check would wait for the step, while the step waited for the worker holding that row's step.
_ROW_LOCK = select(Case.id).where(Case.id == bindparam("case_id")).with_for_update(key_share=True)
# The case with its open items only (index on case and status): a case sent back hundreds of
# times has hundreds of done items, which a step must not read.
_CASE_AND_OPEN_ITEMS = (
    select(Case, WorkItem).outerjoin(WorkItem, and_(WorkItem.case_id == Case.id, WorkItem.status == OPEN_INLINE))
    .where(Case.id == bindparam("case_id")).options(undefer(Case.wf_state))
    .execution_options(populate_existing=True))


def _lock_case_of(item: WorkItem) -> tuple[Case, WorkItem, list[WorkItem]]:
    """Take the write lock of the item's case, then load fresh, in one query: the case, the item,
    and the case's open items (for the projection)."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.connection().execute(WRITE_LOCK)
    else:
        db.session.execute(_ROW_LOCK, {"case_id": item.case_id})
    # A statement of its own after the lock: under READ COMMITTED it sees what a writer
    # that held the lock before us has committed.
    rows = db.session.execute(_CASE_AND_OPEN_ITEMS, {"case_id": item.case_id}).all()
    if not rows:
        raise CaseNotFoundError()
    open_items = [w for _, w in rows if w is not None]
    fresh = next((w for w in open_items if w.id == item.id), None)
    if fresh is None:  # no longer open: read it as it is now, to say who did it
        fresh = db.session.get(WorkItem, item.id, populate_existing=True)
    return rows[0].Case, fresh, open_items


def _note_visits(case: Case) -> None:
    """Keep ``previous_visit_at`` (the repeat-petition figure reads it): for this case, the latest
    earlier registration of one of its applicants; for the applicants' cases registered after this
    one (only when registrations are entered out of order), this case if it is their latest before."""
    ids = sorted({p.id_number for p in case.parties if p.kind == PartyKind.APPLICANT and p.id_number})
    if not ids:
        return
    params = {"ids": ids, "case_id": case.id, "at": case.registered_at}
    case.previous_visit_at = db.session.scalar(_LATEST_VISIT, params)
    db.session.execute(_LATER_VISITS, params)
    for other in [o for o in db.session.identity_map.values() if isinstance(o, Case) and o is not case]:
        db.session.expire(other, ["previous_visit_at"])  # a case loaded already reads it again


def _note_repeats(case: Case) -> None:
    """Whether a party's ID number is in another case (its parties are written), as the case page reads
    it with the case: the registration's message then lists those cases only when there are some."""
    found = any(p.id_number for p in case.parties) and has_repeats(case.id)
    set_committed_value(case, "has_repeats", found)


# Built once (every registration runs them): the other cases of the same applicants, by ID number.
_SAME_APPLICANT = select(Party.case_id).where(Party.kind == PartyKind.APPLICANT,
                                              Party.id_number.in_(bindparam("ids", expanding=True)),
                                              Party.case_id != bindparam("case_id"))
_LATEST_VISIT = select(func.max(Case.registered_at)).where(Case.id.in_(_SAME_APPLICANT),
                                                           Case.registered_at <= bindparam("at"))
_LATER_VISITS = update(Case).where(
    Case.id.in_(_SAME_APPLICANT), Case.registered_at > bindparam("at"),
    or_(Case.previous_visit_at.is_(None), Case.previous_visit_at < bindparam("at"))) \
    .values(previous_visit_at=bindparam("at")).execution_options(synchronize_session=False)


def _case_code(case: Case, now) -> str:
    from flask import current_app
    return f"{current_app.config['PORTAL_CASE_CODE_PREFIX']}{now:%Y}{case.id:06d}"


def _form_defaults(task) -> str | None:
    """What the step's form opens with: ``formDefaults`` maps form fields to workflow data
    ("complexity=proposed_complexity,…"), e.g. the proposals of the triage rules."""
    spec = task.properties.get("formDefaults")
    if not spec:
        return None
    pairs = (item.split("=", 1) for item in spec.split(",") if "=" in item)
    values = {field.strip(): task.data.get(var.strip()) for field, var in pairs}
    return json.dumps({k: v for k, v in values.items() if v is not None}, ensure_ascii=False)


def project_tasks(case: Case, ready, open_items: list[WorkItem], now, branch=None) -> None:
    """Make the open work items of one workflow (the case's, or ``branch``'s) match its READY user
    tasks: a new item for each new task (with its unit and deadline), CANCELLED for each task gone.
    ``open_items``: the open task items of that workflow only."""
    current = {w.task_id: w for w in open_items}
    center = None
    rows = []
    for task in ready:
        if task.id in current:
            continue
        var = task.properties.get("orgUnitVar")
        if var and task.data.get(var):
            unit_id = int(task.data[var])
        else:
            center = center or center_id()
            unit_id = center
        due_after = task.properties.get("dueAfter")
        if task.due_at is not None:  # the diagram's boundary timer on the step
            due_at = task.due_at.replace(tzinfo=None)
        elif due_after:
            due_at = now + iso_duration(due_after)
        else:
            due_at = case.due_at if branch is None and (var or task.properties.get("caseDeadline")) else None
        rows.append({"case_id": case.id, "branch_id": getattr(branch, "id", None), "task_id": task.id,
                     "bpmn_id": task.bpmn_id, "name": task.name, "lane": task.lane, "form_key": task.form_key or "",
                     "kind": WorkItemKind.TASK, "org_unit_id": unit_id, "status": WorkItemStatus.OPEN,
                     "created_at": now, "due_at": due_at, "form_defaults": _form_defaults(task)})
    if rows:  # read by queries only, never as loaded objects in the same transaction
        db.session.connection().execute(_NEW_ITEMS, rows)
    ready_ids = {t.id for t in ready}
    for task_id, item in current.items():
        if task_id not in ready_ids:
            item.status = WorkItemStatus.CANCELLED


def sync_case(case: Case, wf, now, open_items: list[WorkItem] | None = None) -> None:
    """Project the case's workflow onto the case row and its work items (same transaction).
    ``open_items``: the case's open items as loaded with the locked case, if the caller has them
    (the items of its branches among them are left to the branches)."""
    engine = get_engine()
    ready = engine.ready_user_tasks(wf)
    if open_items is None:
        with db.session.no_autoflush:  # one UPDATE of the case per call, not one per query
            open_items = list(db.session.scalars(
                select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.status == OPEN_INLINE,
                                       WorkItem.branch_id.is_(None))))
    # the item just completed is DONE in memory, not yet in the row
    open_items = [w for w in open_items if w.status == WorkItemStatus.OPEN and w.branch_id is None]
    # cards and approvals; a paper delivery outlives the case (the document must still be served)
    cards = [w for w in open_items if w.kind in (WorkItemKind.CARD, WorkItemKind.APPROVAL)]
    project_tasks(case, ready, [w for w in open_items if w.kind == WorkItemKind.TASK], now)
    if engine.is_completed(wf):
        case.status, case.closed_at, case.current_step = CaseStatus.CLOSED, now, None
        assign_dossier_number(case, now)
        for card in cards:  # nothing left to supervise
            card.status = WorkItemStatus.CANCELLED
    elif ready:
        # The case takes the status of its main step; side steps (supervision) declare none.
        status = next((t.properties["caseStatus"] for t in ready if t.properties.get("caseStatus")), None)
        case.status = CaseStatus(status) if status else case.status
        case.current_step = "、".join(t.name for t in ready)
    else:  # only a timer is waiting (e.g. the follow-up after the performance date): no step is current
        case.current_step = None
    case.wf_state = engine.dump(wf)
    due = engine.next_timer_due(wf)
    case.next_timer_due_at = due.replace(tzinfo=None) if due else None
    case.updated_at = now
