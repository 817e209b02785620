"""The demo's assistance and risk-control files: every state of every process, and the ledger's
totals equal to the sum of the individual payments."""
from __future__ import annotations

import random
from decimal import Decimal

from sqlalchemy import func, select

from portal.demo.branches import scenarios, seed_branches
from portal.extensions import db
from portal.models import Branch, BranchKind, BranchOutcome, BranchStatus, WorkItem, WorkItemStatus
from portal.services.branches import branch_totals
from tests.conftest import user

# the demo's logins, played by the test county's users of the same roles and units
CAST = {"window": "window", "dispatch": "dispatch", "director": "director", "township": "xiang",
        "relief": "minzheng", "legalaid": "yuanzhu", "judicialaid": "zhengfa", "dept04": "fayuan",
        "lead03": "sifalead"}


def test_demo_files_cover_every_state_and_the_totals_add_up(make_case):
    from portal.services.cases import PartyData
    for i in range(len(scenarios()) + 2):  # one person per case: the once-a-year rules do not bite
        make_case(until=None, title=f"示范纠纷{i}",
                  parties=[PartyData("applicant", f"申请人{i}", "", "13800138000", "二组12号"),
                           PartyData("respondent", f"被申请人{i}", "", "13900139000", "二组14号")])
    users = {demo: user(name) for demo, name in CAST.items()}
    count = seed_branches(random.Random(7), users)
    assert count == len(scenarios()) + 1  # and the one left to run late

    steps = {(kind, key) for kind, key in db.session.execute(
        select(Branch.kind, WorkItem.form_key).join(WorkItem, WorkItem.branch_id == Branch.id)
        .where(WorkItem.status == WorkItemStatus.OPEN))}
    waiting = {
        BranchKind.RELIEF: {"relief_investigate", "relief_review", "relief_notice", "relief_approve", "relief_pay",
                            "relief_emergency_pay", "aid_supervise"},
        BranchKind.LEGAL_AID: {"legal_aid_review", "legal_aid_assign", "legal_aid_report", "legal_aid_objection",
                               "legal_aid_objection_decide"},
        BranchKind.JUDICIAL_AID: {"judicial_aid_opinion", "judicial_aid_review", "judicial_aid_funds",
                                  "judicial_aid_notify"},
        BranchKind.RISK: {"risk_letter", "risk_assign", "risk_followup"},
    }
    for kind, keys in waiting.items():
        assert keys <= {key for k, key in steps if k == kind}, (kind, keys - {key for k, key in steps if k == kind})
    ended = set(db.session.execute(select(Branch.kind, Branch.outcome).where(Branch.status == BranchStatus.CLOSED)))
    assert {(BranchKind.RELIEF, BranchOutcome.GRANTED), (BranchKind.RELIEF, BranchOutcome.REFUSED),
            (BranchKind.LEGAL_AID, BranchOutcome.GRANTED), (BranchKind.LEGAL_AID, BranchOutcome.REFUSED),
            (BranchKind.JUDICIAL_AID, BranchOutcome.GRANTED), (BranchKind.JUDICIAL_AID, BranchOutcome.REFUSED),
            (BranchKind.RISK, BranchOutcome.RESOLVED)} <= ended
    # the relief waiting for its notice to end has no open step, only its timer
    assert db.session.scalar(select(func.count(Branch.id)).where(
        Branch.kind == BranchKind.RELIEF, Branch.status == BranchStatus.OPEN, Branch.current_step.is_(None),
        Branch.next_timer_due_at.is_not(None))) >= 1

    totals = {t.kind: t for t in branch_totals(user("director"))}
    for kind in (BranchKind.RELIEF, BranchKind.JUDICIAL_AID):
        paid = [b.amount_paid for b in db.session.scalars(select(Branch).where(Branch.kind == kind))
                if b.amount_paid is not None]
        assert paid and totals[kind].paid_amount == sum(paid, Decimal("0"))
        assert totals[kind].started == db.session.scalar(select(func.count(Branch.id)).where(Branch.kind == kind))
