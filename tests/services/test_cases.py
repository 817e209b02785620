"""The chain through the services: statuses, work items, audit, refusals, concurrency."""
from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Case, CaseStatus, WorkItem, WorkItemStatus
from portal.services.cases import complete_task, register_case
from portal.services.errors import StaleCaseError, TaskAlreadyDoneError, TaskNotYoursError, ValidationFailed
from tests.conftest import CHAIN, STEP_FORMS, intake_data, open_item, record_session, row_counts, unit_id, user

EXPECTED_STATUS = {"triage": CaseStatus.TRIAGING, "dispatch": CaseStatus.DISPATCHING, "accept": CaseStatus.ACCEPTING,
                   "handle": CaseStatus.HANDLING, "feedback": CaseStatus.FEEDBACK,
                   "followup": CaseStatus.FOLLOWING_UP,
                   "verify": CaseStatus.VERIFYING, "close": CaseStatus.CLOSING}


def test_register_creates_case_code_parties_and_first_open_step(ctx):
    case = register_case(user("window"), intake_data())
    assert case.code.startswith("MT") and len(case.code) == 12
    assert case.status == CaseStatus.TRIAGING and case.current_step == "研判"
    assert [p.name for p in case.parties] == ["张三", "李四"]
    items = db.session.scalars(select(WorkItem).where(WorkItem.case_id == case.id).order_by(WorkItem.id)).all()
    assert [(i.bpmn_id, i.status) for i in items] == [("intake", WorkItemStatus.DONE), ("triage", WorkItemStatus.OPEN)]
    assert items[0].completed_by.username == "window"
    assert [(e.action, e.work_item_id) for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.case_id == case.id))] == [("case.register", items[0].id)]   # the intake step's row


def test_one_case_from_window_to_closed(ctx):
    case_id = register_case(user("window"), intake_data()).id
    for step in CHAIN:
        case = db.session.get(Case, case_id)
        assert case.status == EXPECTED_STATUS[step]
        item = open_item(case_id)
        assert item.bpmn_id == step
        username, form = STEP_FORMS[step]
        if step in ("accept", "handle", "feedback"):
            assert item.org_unit_id == unit_id("D03") and item.due_at is not None
        if step == "handle":
            record_session(case_id)
        complete_task(user(username), item.id, form())
    case = db.session.get(Case, case_id)
    assert case.status == CaseStatus.CLOSED and case.closed_at and case.closing_type == "mediated"
    assert open_item(case_id) is None
    actions = [e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id))]
    assert actions == ["case.register"] + ["case.step"] * 3 + ["case.session"] + ["case.step"] * (len(CHAIN) - 3)
    history = db.session.scalars(select(WorkItem).where(WorkItem.case_id == case_id).order_by(WorkItem.id)).all()
    assert [h.completed_by.username for h in history] == ["window", "dispatch", "dispatch", "sifa", "sifa", "sifa",
                                                        "verify", "verify", "dispatch"]
    assert json.loads(history[2].result)["assigned_unit_name"] == "县司法局"


def test_failed_verification_goes_back_to_the_unit(make_case):
    case_id = make_case(until="verify")
    complete_task(user("verify"), open_item(case_id).id, {"passed": "no", "opinion": "协议未履行"})
    case = db.session.get(Case, case_id)
    assert case.status == CaseStatus.HANDLING and case.verify_failures == 1
    item = open_item(case_id)
    assert item.bpmn_id == "handle" and item.org_unit_id == unit_id("D03")


def test_failed_verification_needs_a_reason_and_saves_nothing(make_case):
    case_id = make_case(until="verify")
    before = row_counts()
    with pytest.raises(ValidationFailed):
        complete_task(user("verify"), open_item(case_id).id, {"passed": "no", "opinion": "  "})
    assert row_counts() == before
    assert db.session.get(Case, case_id).status == CaseStatus.VERIFYING


@pytest.mark.parametrize("overrides", [
    {"parties": []},
    {"dispute_type_id": 999999},
    {"amount": "abc"},
    {"village_id": -1},
])
def test_bad_intake_is_refused_and_nothing_is_saved(ctx, overrides):
    before = row_counts()
    with pytest.raises(ValidationFailed):
        register_case(user("window"), intake_data(**overrides))
    assert row_counts() == before


def test_wrong_id_number_is_refused_by_the_service_too(ctx):
    from portal.services.cases import PartyData
    before = row_counts()
    bad = [PartyData("applicant", "张三", "110105194912310021", "13800138000"), PartyData("respondent", "李四")]
    with pytest.raises(ValidationFailed):
        register_case(user("window"), intake_data(parties=bad))
    assert row_counts() == before


def test_a_step_of_another_lane_or_unit_is_not_yours(make_case):
    case_id = make_case(until="handle")
    before = row_counts()
    with pytest.raises(TaskNotYoursError):      # right role, other department
        complete_task(user("renshe"), open_item(case_id).id, STEP_FORMS["handle"][1]())
    with pytest.raises(TaskNotYoursError):      # wrong role
        complete_task(user("window"), open_item(case_id).id, STEP_FORMS["handle"][1]())
    assert row_counts() == before


def test_a_step_submitted_twice_is_refused_the_second_time(make_case):
    case_id = make_case(until="triage")
    item_id = open_item(case_id).id
    complete_task(user("dispatch"), item_id, STEP_FORMS["triage"][1]())
    before = row_counts()
    with pytest.raises(TaskAlreadyDoneError):
        complete_task(user("dispatch"), item_id, STEP_FORMS["triage"][1]())
    assert row_counts() == before


def test_two_people_completing_the_same_step_at_once(app, make_case):
    case_id = make_case(until="triage")
    item_id = open_item(case_id).id
    db.session.remove()
    barrier, outcomes = threading.Barrier(2), []

    def attempt():
        with app.app_context():
            barrier.wait()
            try:
                complete_task(user("dispatch"), item_id, STEP_FORMS["triage"][1]())
                outcomes.append("ok")
            except (TaskAlreadyDoneError, StaleCaseError) as exc:
                outcomes.append(str(exc))

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes, key=lambda o: o != "ok")[0] == "ok" and outcomes.count("ok") == 1, outcomes
    conflict = next(o for o in outcomes if o != "ok")
    assert "dispatch" in conflict or "刷新" in conflict or "Reload" in conflict
    with app.app_context():
        done = db.session.scalars(select(WorkItem).where(WorkItem.case_id == case_id,
                                                         WorkItem.bpmn_id == "triage")).all()
        assert [d.status for d in done] == [WorkItemStatus.DONE]
        steps = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id,
                                                            AuditEvent.action == "case.step")).all()
        assert len(steps) == 1


def test_audit_rows_cannot_be_changed(make_case):
    from portal.models import AuditLogImmutableError
    make_case(until="triage")
    event = db.session.scalars(select(AuditEvent)).first()
    event.action = "tampered"
    with pytest.raises(AuditLogImmutableError):
        db.session.flush()
    db.session.rollback()


def test_an_open_item_whose_task_the_workflow_no_longer_has_is_refused(make_case):
    from portal.services.engine import get_engine, spec_for
    from portal.services.errors import StepNotOpenError
    case_id = make_case(until="triage")
    case, item = db.session.get(Case, case_id), open_item(case_id)
    engine = get_engine()  # move the workflow on behind the work item's back (as a bad migration would)
    wf = engine.restore(case.wf_state, spec_for(case.process_version_id))
    engine.complete(wf, item.task_id, {"complexity": "general", "risk_level": "low", "resolution_mode": "at_home"})
    case.wf_state = engine.dump(wf)
    db.session.commit()
    before = row_counts()
    with pytest.raises(StepNotOpenError):
        complete_task(user("dispatch"), item.id, STEP_FORMS["triage"][1]())
    assert row_counts() == before
    assert open_item(case_id).id == item.id


def test_a_case_sent_back_three_hundred_times_still_advances(make_case):
    case_id = make_case(until="verify")
    sizes = []
    for _ in range(300):
        complete_task(user("verify"), open_item(case_id).id, {"passed": "no", "opinion": "请补充履行凭证"})
        for step in ("handle", "feedback", "followup"):
            username, form = STEP_FORMS[step]
            complete_task(user(username), open_item(case_id).id, form())
        sizes.append(len(db.session.get(Case, case_id).wf_state))
    assert max(sizes) - min(sizes) < 200, "the workflow state must not grow with each return"
    for step in ("verify", "close"):
        username, form = STEP_FORMS[step]
        complete_task(user(username), open_item(case_id).id, form())
    case = db.session.get(Case, case_id)
    assert case.status == CaseStatus.CLOSED and case.verify_failures == 300
    rounds = db.session.scalars(select(WorkItem).where(WorkItem.case_id == case_id, WorkItem.bpmn_id == "handle")).all()
    assert len(rounds) == 301 and all(r.status == WorkItemStatus.DONE for r in rounds)


def test_each_case_knows_its_applicants_previous_visit_even_when_entered_out_of_order(ctx):
    """``previous_visit_at`` (the repeat-petition figure reads it): the latest earlier registration of
    one of the case's applicants, by ID number, whatever order the cases were entered in."""
    from datetime import datetime

    from portal.clock import frozen_at
    from portal.models import Case
    from portal.services.cases import PartyData, register_case
    from tests.conftest import intake_data, user

    def register(at, id_number, other=""):
        parties = [PartyData("applicant", "申请人", id_number, "13800138000"),
                   PartyData("respondent", "被申请人", other, "13900139000")]
        with frozen_at(at):
            return register_case(user("window"), intake_data(parties=parties)).id
    march = register(datetime(2026, 3, 1, 2), "11010519491231002X")
    may = register(datetime(2026, 5, 1, 2), "11010519491231002X")
    april = register(datetime(2026, 4, 1, 2), "11010519491231002X")   # entered late
    first = register(datetime(2026, 2, 1, 2), "110105194912310038", other="11010519491231002X")  # a respondent
    visits = {cid: db.session.get(Case, cid).previous_visit_at for cid in (march, april, may, first)}
    assert visits == {march: None, april: datetime(2026, 3, 1, 2), may: datetime(2026, 4, 1, 2), first: None}
