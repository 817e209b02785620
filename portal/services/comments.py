"""Internal comments on a case, and the in-app notifications the worker delivers.

Notifications are sent after the action's transaction commits: the new work item
(a task, a supervision card, a step sent back) or the new comment is its own
outbox row (``notified`` is false), and the worker turns it into one message per
member of the unit concerned. A rolled-back action leaves nothing to announce.
"""
from __future__ import annotations

from flask_appbuilder.security.sqla.models import Role, assoc_user_role
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import aliased

from portal.clock import utcnow
from portal.extensions import db
from portal.models import Case, CaseComment, LaneRole, Notification, PortalUser, WorkItem, WorkItemKind, WorkItemStatus
from portal.services._tx import transaction
from portal.services.audit import audit
from portal.services.errors import ValidationFailed, required_text
from portal.services.locks import take_sqlite_write_lock
from portal.services.queries import check_case_visible

MAX_COMMENT = 2000


@transaction
def add_comment(user, case_id: int, body: str) -> CaseComment:
    check_case_visible(user, case_id)
    body = required_text(body, "body")
    if len(body) > MAX_COMMENT:
        raise ValidationFailed(_l("A comment may hold at most %(n)s characters."), field="body", n=MAX_COMMENT)
    comment = CaseComment(case_id=case_id, author_id=user.id, created_at=utcnow(), body=body)
    db.session.add(comment)
    db.session.flush()
    audit("case.comment", user=user, case=db.session.get(Case, case_id), comment_id=comment.id)
    return comment


def comments_of(case_id: int) -> list[CaseComment]:
    return list(db.session.scalars(select(CaseComment).where(CaseComment.case_id == case_id)
                                   .order_by(CaseComment.id)))


def unread_count(user) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read.is_(False))) or 0


def notifications_of(user, limit: int = 50) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id.desc()).limit(limit)))


@transaction
def mark_read(user) -> int:
    result = db.session.execute(update(Notification).where(Notification.user_id == user.id,
                                                           Notification.read.is_(False)).values(read=True))
    return result.rowcount


# -- delivery (the worker) ------------------------------------------------------------------

def _members(unit_id: int | None, lane: str | None) -> list[int]:
    """Active users of exactly this unit whose roles work ``lane`` (every lane when None): their ids, in
    one query (a unit of many staff is told of every new step)."""
    query = select(PortalUser.id).where(PortalUser.org_unit_id == unit_id, PortalUser.active.is_(True))
    if lane is not None:
        query = query.where(PortalUser.id.in_(
            select(assoc_user_role.c.user_id).join(Role, Role.id == assoc_user_role.c.role_id)
            .where(Role.name.in_(select(LaneRole.role_name).where(LaneRole.lane == lane)))))
    return list(db.session.scalars(query.order_by(PortalUser.id)))


def _came_back(item_ids: list[int]) -> set[int]:
    """Those of these steps that the case has had before (sent back to be done again)."""
    if not item_ids:
        return set()
    earlier = aliased(WorkItem)
    return set(db.session.scalars(select(WorkItem.id).where(WorkItem.id.in_(item_ids), select(earlier.id).where(
        earlier.case_id == WorkItem.case_id, earlier.bpmn_id == WorkItem.bpmn_id, earlier.id < WorkItem.id).exists())))


def _kind_of(item, code: str, came_back: bool) -> tuple[str, str]:
    if item.kind == WorkItemKind.CARD:
        return "card", str(_l("Supervision card on %(code)s: %(step)s", code=code, step=item.name))
    if came_back:
        return "returned", str(_l("Case %(code)s came back: %(step)s", code=code, step=item.name))
    return "new_task", str(_l("New step on %(code)s: %(step)s", code=code, step=item.name))


ITEMS_PER_TRANSACTION = 100


def deliver_notifications(limit: int | None = 200) -> int:
    """Turn committed work items and comments not yet announced into notifications; return how many.
    Work items go a hundred to a transaction (a busy center opens several steps a second, each told to
    every dispatcher), comments one by one."""
    sent = 0
    members: dict[tuple, list[int]] = {}  # a unit's staff of a lane, read once per round
    item_ids = list(db.session.scalars(select(WorkItem.id).where(WorkItem.notified.is_(False))
                                       .order_by(WorkItem.id).limit(limit)))
    for start in range(0, len(item_ids), ITEMS_PER_TRANSACTION):
        sent += _deliver_items(item_ids[start:start + ITEMS_PER_TRANSACTION], members)
    for comment_id in list(db.session.scalars(select(CaseComment.id).where(CaseComment.notified.is_(False))
                                              .order_by(CaseComment.id).limit(limit))):
        sent += _deliver_comment(comment_id)
    return sent


@transaction
def _deliver_items(item_ids: list[int], members: dict[tuple, list[int]]) -> int:
    """Announce these work items (those another worker holds are left to it): one notification per
    member of the unit and lane of each open one, or to the one who claimed it, in one statement."""
    take_sqlite_write_lock()  # SQLite: one worker at a time; PostgreSQL: rows skipped when another has them
    items = list(db.session.execute(
        select(WorkItem.id, WorkItem.case_id, WorkItem.kind, WorkItem.name, WorkItem.status, WorkItem.org_unit_id,
               WorkItem.lane, WorkItem.claimed_by_id)
        .where(WorkItem.id.in_(item_ids), WorkItem.notified.is_(False)).order_by(WorkItem.id)
        .with_for_update(skip_locked=True)))
    if not items:
        return 0
    db.session.execute(update(WorkItem).where(WorkItem.id.in_([item.id for item in items]))
                       .values(notified=True).execution_options(synchronize_session=False))
    items = [item for item in items if item.status == WorkItemStatus.OPEN]
    if not items:
        return 0
    codes = dict(db.session.execute(select(Case.id, Case.code).where(Case.id.in_({i.case_id for i in items}))).all())
    came_back = _came_back([item.id for item in items if item.kind != WorkItemKind.CARD])
    now, rows = utcnow(), []
    for item in items:
        kind, text = _kind_of(item, codes[item.case_id], item.id in came_back)
        if item.claimed_by_id:
            recipients = [item.claimed_by_id]
        else:
            key = (item.org_unit_id, item.lane)
            recipients = members[key] if key in members else members.setdefault(key, _members(*key))
        rows += [{"user_id": user_id, "case_id": item.case_id, "kind": kind, "text": text[:300],
                  "url": f"/cases/task/{item.id}", "created_at": now, "read": False, "source": f"item:{item.id}"}
                 for user_id in recipients]
    if rows:
        db.session.execute(insert(Notification), rows)
    return len(rows)


@transaction
def _deliver_comment(comment_id: int) -> int:
    take_sqlite_write_lock()
    comment = db.session.scalars(select(CaseComment).where(CaseComment.id == comment_id,
                                                           CaseComment.notified.is_(False))
                                 .with_for_update(skip_locked=True)).first()
    if comment is None:
        return 0
    comment.notified = True
    # those who hold an open step of the case hear of it (not the author)
    units = set(db.session.scalars(select(WorkItem.org_unit_id).where(
        WorkItem.case_id == comment.case_id, WorkItem.status == WorkItemStatus.OPEN)))
    recipients = {uid for unit in units for uid in _members(unit, None)} - {comment.author_id}
    code = db.session.scalar(select(Case.code).where(Case.id == comment.case_id))
    text = str(_l("%(who)s commented on %(code)s", who=comment.author.first_name or comment.author.username,
                  code=code))
    return _add(sorted(recipients), comment.case_id, "comment", text, f"/cases/{comment.case_id}",
                f"comment:{comment.id}")


def _add(user_ids, case_id, kind, text, url, source) -> int:
    """One notification per user, written in one statement."""
    if user_ids:
        now = utcnow()
        db.session.execute(insert(Notification), [
            {"user_id": user_id, "case_id": case_id, "kind": kind, "text": text[:300], "url": url,
             "created_at": now, "read": False, "source": source} for user_id in user_ids])
    return len(user_ids)


