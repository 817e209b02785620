"""Supervision (跟踪督办): 督办卡 raised as a deadline nears and passes, or by the director's hand.

A card is a work item for the leader of the unit that holds the case (the
center's, before a unit is assigned). It lives beside the workflow, not in it:
answering a card records what the unit will do and does not move the case.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.exc import IntegrityError

from portal.clock import utcnow
from portal.extensions import db
from portal.models import (
    CardLevel,
    Case,
    CaseStatus,
    SupervisionCard,
    SupervisionRule,
    WorkItem,
    WorkItemKind,
    WorkItemStatus,
)
from portal.services._tx import transaction
from portal.services.audit import audit
from portal.services.deadlines import utc_to_local
from portal.services.errors import CaseForbiddenError, CaseNotFoundError, ValidationFailed, choice, required_text
from portal.services.locks import take_sqlite_write_lock
from portal.services.queries import center_id

CARD_LANE = "单位负责人"
# 普通 a day before the deadline, 黄牌 when it passes, 红牌 three days after: the defaults administrators edit.
DEFAULT_OFFSETS = {CardLevel.NORMAL: -24, CardLevel.YELLOW: 0, CardLevel.RED: 72}
CARD_NAMES = {CardLevel.NORMAL: "普通督办", CardLevel.YELLOW: "黄牌督办", CardLevel.RED: "红牌督办"}
SUPERVISORS = {"director", "Admin"}


def _card(case: Case, level: CardLevel, reason: str, now: datetime, deadline_at: datetime | None,
          user=None) -> SupervisionCard:
    """``deadline_at``: the case deadline an automatic card is about; None for a hand-raised one."""
    item = WorkItem(case_id=case.id, task_id=f"card-{case.id}-{level.value}-{int(now.timestamp())}",
                    bpmn_id="supervision_card", name=CARD_NAMES[level], lane=CARD_LANE,
                    form_key="supervision_card", kind=WorkItemKind.CARD,
                    org_unit_id=case.assigned_unit_id or center_id(), status=WorkItemStatus.OPEN,
                    created_at=now, due_at=now + timedelta(days=1),
                    form_defaults=json.dumps({"level": level.value}))
    db.session.add(item)
    db.session.flush()
    card = SupervisionCard(case_id=case.id, level=level, reason=reason, deadline_at=deadline_at,
                           raised_at=now, raised_by_id=getattr(user, "id", None), work_item_id=item.id)
    db.session.add(card)
    db.session.flush()
    audit("case.card", user=user, case=case, work_item=item, level=level.value, reason=reason)
    return card


def _local(moment: datetime) -> str:
    """A stored (naive UTC) time as the county reads it."""
    return utc_to_local(moment).strftime("%Y-%m-%d %H:%M")


def due_levels(case_due: datetime, now: datetime, rules: dict[CardLevel, int]) -> list[CardLevel]:
    """The card levels whose time has come for a deadline, mildest first."""
    return [level for level in CardLevel if level in rules and now >= case_due + timedelta(hours=rules[level])]


def raise_due_cards(limit: int | None = None) -> int:
    """Raise the automatic cards that are due (each at most once per case deadline); return how many."""
    now = utcnow()
    rules = {r.level: r.offset_hours for r in db.session.scalars(select(SupervisionRule))}
    if not rules:
        return 0
    # only the cases still lacking a card whose time has come: a worker round does not revisit every
    # overdue case (thousands, in a county) once their cards are raised
    lacking = [and_(Case.due_at <= now - timedelta(hours=hours), ~exists().where(
        SupervisionCard.case_id == Case.id, SupervisionCard.level == level,
        SupervisionCard.deadline_at == Case.due_at, SupervisionCard.raised_by_id.is_(None)))
        for level, hours in rules.items()]
    candidates = list(db.session.scalars(
        select(Case.id).where(Case.due_at.is_not(None), Case.status != CaseStatus.CLOSED,
                              Case.paused_since.is_(None), or_(*lacking))
        .order_by(Case.due_at).limit(limit)))
    raised = 0
    for case_id in candidates:
        if limit is not None and raised >= limit:
            break
        try:
            raised += _raise_for_case(case_id, now, rules)
        except IntegrityError:
            db.session.rollback()  # another worker raised the same card first: exactly once either way
    return raised


@transaction
def _raise_for_case(case_id: int, now: datetime, rules: dict[CardLevel, int]) -> int:
    take_sqlite_write_lock()
    case = db.session.scalars(select(Case).where(Case.id == case_id).with_for_update(skip_locked=True, key_share=True)
                              .execution_options(populate_existing=True)).first()
    if case is None or case.due_at is None or case.status == CaseStatus.CLOSED or case.paused_since is not None:
        return 0
    existing = set(db.session.scalars(select(SupervisionCard.level).where(
        SupervisionCard.case_id == case.id, SupervisionCard.deadline_at == case.due_at,
        SupervisionCard.raised_by_id.is_(None))))
    count = 0
    for level in due_levels(case.due_at, now, rules):
        if level not in existing:
            reason = str(_l("Deadline %(due)s: raised automatically", due=_local(case.due_at)))
            _card(case, level, reason, now, case.due_at)
            count += 1
    return count


@transaction
def raise_card(user, case_id: int, level: str, reason: str) -> SupervisionCard:
    """The director raises a card by hand."""
    if not SUPERVISORS & {r.name for r in user.roles}:
        raise CaseForbiddenError()
    case = db.session.get(Case, case_id)
    if case is None:
        raise CaseNotFoundError()
    if case.status == CaseStatus.CLOSED:
        raise ValidationFailed(_l("The case is closed; there is nothing to supervise."))
    card_level = choice(CardLevel, level, "level")
    reason = required_text(reason, "reason")
    # a hand-raised card is not tied to a deadline cycle
    return _card(case, card_level, reason, utcnow(), None, user)


def cards_of(case_id: int) -> list[SupervisionCard]:
    return list(db.session.scalars(select(SupervisionCard).where(SupervisionCard.case_id == case_id)
                                   .order_by(SupervisionCard.raised_at)))


def load_default_rules() -> None:
    """Add the default thresholds that are missing (inside the caller's transaction)."""
    have = set(db.session.scalars(select(SupervisionRule.level)))
    for level, hours in DEFAULT_OFFSETS.items():
        if level not in have:
            db.session.add(SupervisionRule(level=level, offset_hours=hours, note="县矛调中心默认督办时点"))
