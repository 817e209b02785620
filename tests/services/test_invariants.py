"""``flask portal check``: consistent after normal work; each kind of fault it exists for is named."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update

from portal.clock import utcnow
from portal.extensions import db
from portal.models import Case, WorkItem, WorkItemKind, WorkItemStatus
from portal.services.branches import start_branch
from portal.services.invariants import check_invariants
from tests.branches.test_relief import application
from tests.conftest import open_item, user


def _work(make_case) -> tuple[int, int]:
    running = make_case("handle")
    closed = make_case(until=None)
    start_branch(user("window"), running, "relief", application(running))
    return running, closed


def test_normal_work_is_consistent_and_the_command_says_so(app, make_case):
    _work(make_case)
    report = check_invariants()
    assert report.ok, report.problems
    assert report.cases == 1 and report.branches == 1
    result = app.test_cli_runner().invoke(args=["portal", "check"])
    assert result.exit_code == 0 and "all consistent" in result.output


def test_each_fault_is_named(app, make_case):
    running, closed = _work(make_case)
    now = utcnow()
    item = open_item(running, "handle")
    db.session.execute(delete(WorkItem).where(WorkItem.id == item.id))          # a step lost its work item
    db.session.add(WorkItem(case_id=closed, task_id="stray", bpmn_id="handle", name="办理", form_key="handle",
                            kind=WorkItemKind.TASK, status=WorkItemStatus.OPEN, created_at=now))  # open on closed
    db.session.add(WorkItem(case_id=closed, task_id="unaudited", bpmn_id="verify", name="核查", form_key="verify",
                            kind=WorkItemKind.TASK, status=WorkItemStatus.DONE, created_at=now, completed_at=now,
                            completed_by_id=user("verify").id))                 # done with no audit entry
    db.session.execute(update(Case).where(Case.id == running).values(next_timer_due_at=now - timedelta(hours=1)))
    db.session.commit()
    problems = "\n".join(check_invariants().problems)
    code = db.session.scalar(select(Case.code).where(Case.id == running))
    assert f"case {code}: ready steps without an open work item: ['{item.task_id}']" in problems
    assert "(办理) is open on a closed case" in problems
    assert "(核查) has no audit entry" in problems
    assert f"case {running}: a timer due at" in problems
    db.session.execute(update(Case).where(Case.id == running).values(wf_state='{"broken": '))
    db.session.commit()
    assert "does not load" in "\n".join(check_invariants().problems)
    result = app.test_cli_runner().invoke(args=["portal", "check"])
    assert result.exit_code == 1 and "problem(s)" in result.output
