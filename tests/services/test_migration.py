"""Moving running cases and branches to a newer version of their process: dry run, move, undo."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from portal.bpmn import MAIN_PROCESS_ID
from portal.extensions import db
from portal.models import AuditEvent, Branch, Case, CaseMigration, WorkItem
from portal.services.branches import start_branch
from portal.services.cases import complete_task
from portal.services.deadlines import local_today
from portal.services.errors import DomainError
from portal.services.migration import dry_run, migrate, revert
from portal.services.processes import published_version
from tests.branches.test_relief import application, investigate
from tests.chain_versions import FILE_NAME, chain_with_review, published, relief_with_renamed_notice
from tests.conftest import do_branch_step, do_step, open_item, row_counts, user


@pytest.fixture
def publish(app, ctx):
    with published(app) as publish:
        yield publish


def _migrations() -> int:
    return db.session.scalar(select(func.count(CaseMigration.id)))


def _audits(action: str) -> list[dict]:
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    return [{"case_id": r.case_id, "user": r.username, **json.loads(r.detail)} for r in rows]


def _snapshot(case_id: int) -> tuple:
    case = db.session.get(Case, case_id, populate_existing=True)
    return case.process_version_id, case.wf_state, case.status, case.current_step, case.lock_version


def test_dry_run_says_which_running_cases_can_move_and_why_not(make_case, publish):
    v1 = published_version()
    waiting = make_case(until="triage")
    past = make_case(until="accept")
    closed = make_case(until=None)
    v2 = publish(FILE_NAME, chain_with_review())
    before = row_counts()

    checks = {c.case_id: c for c in dry_run(MAIN_PROCESS_ID, v2.id)}

    assert set(checks) == {waiting, past}   # a closed case stays where it ran
    assert closed not in checks
    ok = checks[waiting]
    assert (ok.can_migrate, ok.reasons, ok.from_version, ok.current_step) == (True, [], v1.version, "研判")
    assert ok.code == db.session.get(Case, waiting).code and ok.branch_id is None
    no = checks[past]
    assert not no.can_migrate and len(no.reasons) == 2
    assert "研判" in no.reasons[0] and "triage" in no.reasons[0] and "分流交办" in no.reasons[1]
    assert row_counts() == before and _migrations() == 0
    with pytest.raises(DomainError):   # a version of another process
        dry_run("temporary_relief", v2.id)


def test_migrate_moves_the_case_that_can_and_reports_the_one_that_cannot(make_case, publish):
    v1 = published_version()
    waiting = make_case(until="triage")
    past = make_case(until="accept")
    v2 = publish(FILE_NAME, chain_with_review())
    triage_item = open_item(waiting, "triage")
    past_before = _snapshot(past)
    before = row_counts()

    results = {r.case_id: r for r in migrate(user("admin"), v2.id, [waiting, past])}

    assert results[waiting].migrated and results[waiting].migration_id
    assert not results[past].migrated and "研判" in results[past].message and results[past].migration_id is None
    assert _snapshot(past) == past_before                      # the refused case is untouched
    case = db.session.get(Case, waiting)
    assert case.process_version_id == v2.id
    assert open_item(waiting, "triage").id == triage_item.id   # the same step, still open
    after = row_counts()
    assert after["work_item"] == before["work_item"]
    assert after["audit_event"] == before["audit_event"] + 1 and _migrations() == 1
    [entry] = _audits("case.migrate")
    assert (entry["case_id"], entry["user"], entry["from_version"], entry["to_version"]) == \
        (waiting, "admin", v1.version, v2.version)
    record = db.session.get(CaseMigration, results[waiting].migration_id)
    assert (record.from_version_id, record.to_version_id, record.migrated_by.username) == (v1.id, v2.id, "admin")
    assert record.new_state == case.wf_state and record.old_state != record.new_state

    do_step(waiting, "triage")                                  # triage now leads to the new step
    review = open_item(waiting)
    assert (review.bpmn_id, review.form_key, review.lane, review.name) == \
        ("triage_review", "supervise_accept", "综合调度", "研判复核")
    complete_task(user("dispatch"), review.id, {"note": "研判意见妥当，同意交办"})
    assert open_item(waiting).form_key == "dispatch"


def test_a_refused_migration_changes_nothing(make_case, publish):
    past = make_case(until="accept")
    v2 = publish(FILE_NAME, chain_with_review())
    before, snapshot = row_counts(), _snapshot(past)
    [result] = migrate(user("admin"), v2.id, [past])
    assert not result.migrated
    assert row_counts() == before and _snapshot(past) == snapshot and _migrations() == 0
    [again] = migrate(user("admin"), v2.id, [999999])   # no such case
    assert not again.migrated and row_counts() == before


def test_revert_puts_the_case_back_unless_it_has_moved_on(make_case, publish):
    v1 = published_version()
    first = make_case(until="triage")
    second = make_case(until="triage")
    v2 = publish(FILE_NAME, chain_with_review())
    old_state = db.session.get(Case, first).wf_state
    moved = {r.case_id: r.migration_id for r in migrate(user("admin"), v2.id, [first, second])}

    record = revert(user("admin"), moved[first])
    case = db.session.get(Case, first)
    assert (case.process_version_id, case.wf_state) == (v1.id, old_state)
    assert record.reverted_at is not None and record.reverted_by.username == "admin"
    [entry] = _audits("case.migrate_revert")
    assert (entry["case_id"], entry["from_version"], entry["to_version"]) == (first, v2.version, v1.version)
    do_step(first, "triage")                                    # back on the old version: straight to dispatch
    assert open_item(first).form_key == "dispatch"

    before = row_counts()
    with pytest.raises(DomainError, match="已经撤销"):
        revert(user("admin"), moved[first])
    assert row_counts() == before
    do_step(second, "triage")                                   # the second case moves on, on the new version
    before, snapshot = row_counts(), _snapshot(second)
    with pytest.raises(DomainError, match="迁移后已继续办理"):
        revert(user("admin"), moved[second])
    assert row_counts() == before and _snapshot(second) == snapshot
    assert db.session.get(CaseMigration, moved[second]).reverted_at is None


def test_running_branches_move_with_their_process(make_case, publish):
    case_id = make_case(until="handle")
    early = start_branch(user("window"), case_id, "relief", application(case_id))          # at the investigation
    late = start_branch(user("window"), case_id, "relief", application(case_id, hardship="traffic"))
    investigate(late.id)
    do_branch_step(late.id, "relief_notice", "xiang", {"posted_on": local_today(), "place": "村务公开栏"})
    v2 = publish("temporary_relief.bpmn", relief_with_renamed_notice())

    checks = {c.branch_id: c for c in dry_run("temporary_relief", v2.id)}
    assert checks[early.id].can_migrate and not checks[late.id].can_migrate
    assert "张榜公示" in checks[late.id].reasons[0]
    assert checks[early.id].case_id == case_id

    before = row_counts()
    results = {r.branch_id: r for r in migrate(user("admin"), v2.id, branch_ids=[early.id, late.id])}
    assert results[early.id].migrated and not results[late.id].migrated
    assert db.session.get(Branch, early.id).process_version_id == v2.id
    assert db.session.get(Branch, late.id).process_version_id != v2.id
    assert row_counts()["audit_event"] == before["audit_event"] + 1
    old_version = db.session.get(Branch, late.id).process_version_id
    revert(user("admin"), results[early.id].migration_id)            # back, then over again
    assert db.session.get(Branch, early.id).process_version_id == old_version
    [again] = migrate(user("admin"), v2.id, branch_ids=[early.id])
    assert again.migrated and db.session.get(Branch, early.id).process_version_id == v2.id
    investigate(early.id)
    item = db.session.scalars(select(WorkItem).where(WorkItem.branch_id == early.id)
                              .order_by(WorkItem.id.desc())).first()
    assert (item.bpmn_id, item.name) == ("relief_notice", "张榜公示七日")
