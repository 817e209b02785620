"""Many users at once against two app servers sharing the database, over HTTP with real logins: twenty
submit the same step (one wins, the others are told why, the history has it once), and twenty each submit
a different step of one case, the investigations of its twenty relief applications (none is lost)."""
from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Branch, Case, WorkItem, WorkItemStatus
from portal.services.branches import start_branch
from portal.services.cases import PartyData
from portal.services.deadlines import local_today
from portal.services.engine import get_engine, spec_for
from tests.branches.test_relief import application
from tests.conftest import PASSWORD, STEP_FORMS, open_item, user
from tests.faults.checks import assert_consistent, assert_each_step_once
from tests.faults.harness import DONE_BY, TASK_FORM, Browser, Gunicorn, portal_env

USERS = 20
STALE = "该案件刚被他人更新"   # StaleCaseError: retry
HARDSHIPS = ["fire", "traffic", "accident", "illness", "other"]


def investigation() -> dict:
    return {"visited_on": local_today().isoformat(), "investigators": "乡民政办王芳、村委会刘强",
            "findings": "房屋主体烧毁，家庭无其他收入来源", "hardship_confirmed": "yes", "proposed_amount": "3000"}


@pytest.fixture(scope="module")
def servers(app, tmp_path_factory):
    """Two app servers (as two machines behind a load balancer would be) on the test database."""
    logs = tmp_path_factory.mktemp("servers")
    pair = [Gunicorn(portal_env(app.config), logs / f"gunicorn{i}.log", workers=3) for i in range(2)]
    try:
        for server in pair:
            server.launch()
        for server in pair:
            server.wait_ready()
        yield pair
    finally:
        for server in pair:
            server.terminate()
        for server in pair:
            server.stop()


def _logged_in(servers, username: str) -> list[Browser]:
    """USERS browsers of one account, every other one on the second server."""
    browsers = [Browser(servers[i % 2].port) for i in range(USERS)]
    for browser in browsers:
        browser.login(username, PASSWORD)
    return browsers


def _at_once(browsers: list[Browser], posts: list[tuple[str, dict]]) -> list:
    """Open each browser's step page, then submit all the forms at the same moment."""
    pages = [b.get(path) for b, (path, _form) in zip(browsers, posts, strict=True)]
    assert all(p.status == 200 and TASK_FORM in p.text for p in pages), [p.status for p in pages]
    start, answers = threading.Barrier(len(browsers)), [None] * len(browsers)

    def submit(i: int) -> None:
        path, form = posts[i]
        start.wait()
        answers[i] = browsers[i].post(path, {**form, "csrf_token": browsers[i].token(pages[i])})

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(browsers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return answers


def test_twenty_users_submitting_the_same_step_one_wins(app, servers, make_case):
    case_id = make_case("triage")
    item_id = open_item(case_id, "triage").id
    db.session.remove()
    browsers = _logged_in(servers, "dispatch")
    answers = _at_once(browsers, [(f"/cases/task/{item_id}", STEP_FORMS["triage"][1]())] * USERS)
    won = [a for a in answers if a.status == 302]
    lost = [a for a in answers if a.status != 302]
    print(f"\nsame step, {USERS} users on 2 servers: {len(won)} done, "
          f"{sum(DONE_BY in a.text for a in lost)} told it was done already, "
          f"{sum(STALE in a.text for a in lost)} told the case changed under them")
    assert len(won) == 1 and won[0].location.endswith(f"/cases/{case_id}")
    assert all(a.status == 409 and (DONE_BY in a.text or STALE in a.text) for a in lost), \
        [(a.status, a.text[:200]) for a in lost]
    assert_consistent()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "case.step", AuditEvent.work_item_id == item_id)) == 1
    assert db.session.get(WorkItem, item_id).status == WorkItemStatus.DONE
    assert [w.form_key for w in db.session.scalars(select(WorkItem).where(
        WorkItem.case_id == case_id, WorkItem.status == WorkItemStatus.OPEN))] == ["dispatch"]
    assert_each_step_once([case_id])


def _case_with_twenty_applications(make_case) -> tuple[int, list[int]]:
    """A case in handling whose four parties each applied for relief for five hardships: twenty branches,
    each waiting for the township's home visit."""
    parties = [PartyData("applicant", "张三", "", "13800138000", "二组12号"),
               PartyData("applicant", "王五", "", "13800138001", "二组13号"),
               PartyData("respondent", "李四", "", "13900139000", "二组14号"),
               PartyData("respondent", "赵六", "", "13900139001", "二组15号")]
    case_id = make_case("handle", parties=parties)
    branch_ids = []
    for party in db.session.get(Case, case_id).parties:
        for hardship in HARDSHIPS:
            branch_ids.append(start_branch(user("xiang"), case_id, "relief", application(
                case_id, party_id=party.id, hardship=hardship,
                materials=["application", "identity", "income", "cause", "health"])).id)
    assert len(branch_ids) == USERS
    return case_id, branch_ids


def test_twenty_users_completing_different_steps_of_one_case_lose_none(app, servers, make_case):
    case_id, branch_ids = _case_with_twenty_applications(make_case)
    items = {b: db.session.scalars(select(WorkItem.id).where(WorkItem.branch_id == b,
                                                             WorkItem.status == WorkItemStatus.OPEN)).one()
             for b in branch_ids}
    db.session.remove()
    browsers = _logged_in(servers, "xiang")
    posts = [(f"/cases/task/{items[b]}", investigation()) for b in branch_ids]
    answers = _at_once(browsers, posts)
    retried = [i for i, a in enumerate(answers) if a.status == 409 and STALE in a.text]
    if retried:   # a clear, retryable conflict: the user opens the step again and submits
        again = _at_once([browsers[i] for i in retried], [posts[i] for i in retried])
        for i, answer in zip(retried, again, strict=True):
            answers[i] = answer
    print(f"\ndifferent steps of one case, {USERS} users on 2 servers: "
          f"{sum(a.status == 302 for a in answers)} done, {len(retried)} retried after a conflict")
    assert [a.status for a in answers] == [302] * USERS, [(a.status, a.text[:300]) for a in answers if a.status != 302]
    assert_consistent()
    assert_each_step_once([case_id])
    engine = get_engine()
    for branch in db.session.scalars(select(Branch).where(Branch.id.in_(branch_ids))):
        item = db.session.get(WorkItem, items[branch.id])
        assert item.status == WorkItemStatus.DONE and item.completed_by.username == "xiang"
        assert json.loads(item.result)["investigators"] == investigation()["investigators"]
        wf = engine.restore(branch.wf_state, spec_for(branch.process_version_id))
        assert [t.bpmn_id for t in engine.ready_user_tasks(wf)] == ["relief_notice"]
        assert branch.current_step == open_item_name(branch.id)
        audits = db.session.scalars(select(AuditEvent.detail).where(
            AuditEvent.action == "branch.step", AuditEvent.work_item_id == item.id)).all()
        assert len(audits) == 1 and json.loads(audits[0])["branch"] == branch.id


def open_item_name(branch_id: int) -> str:
    return db.session.scalars(select(WorkItem.name).where(WorkItem.branch_id == branch_id,
                                                          WorkItem.status == WorkItemStatus.OPEN)).one()
