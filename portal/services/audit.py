"""The audit log: one row per action, written in the transaction of the action."""
from __future__ import annotations

import json
from typing import Any

from flask import has_request_context, request
from sqlalchemy import insert

from portal.clock import utcnow
from portal.extensions import db
from portal.models import AuditEvent
from portal.services._tx import transaction

# Built once, run on the session's connection: building the statement, or running it through the session,
# costs more than the INSERT itself.
_INSERT = insert(AuditEvent.__table__)


def audit(action: str, user=None, case=None, work_item=None, work_item_id: int | None = None, **detail: Any) -> None:
    """Write an audit row in the current transaction (the caller's service commits); ``work_item_id``
    names a step written as a row, not loaded.

    A plain INSERT, not an ORM object: the row is never read back in the transaction, and
    the unit of work costs several times the statement."""
    db.session.connection().execute(_INSERT, {
        "at": utcnow(), "user_id": getattr(user, "id", None), "username": getattr(user, "username", None),
        "action": action, "case_id": getattr(case, "id", None), "work_item_id": getattr(work_item, "id", work_item_id),
        "detail": json.dumps(detail, ensure_ascii=False, default=str) if detail else None,
        "remote_addr": request.remote_addr if has_request_context() else None,
    })


@transaction
def record_login(user, success: bool) -> None:
    """Audit a login attempt (FAB calls this after its own commit)."""
    audit("login" if success else "login_failed", user=user if success else None,
          username=getattr(user, "username", None))


@transaction
def record_export(user, what: str, rows: int, unmasked: bool) -> None:
    """Audit an export (how many records, and whether personal data left unmasked)."""
    audit("export", user=user, what=what, rows=rows, unmasked=unmasked)


@transaction(keep_loaded=True)
def record_personal_view(user, case) -> None:
    """Audit that ``user`` saw the case's parties unmasked (ID numbers, phones). The page goes on with
    what it has read: only the audit row is written."""
    audit("case.view_personal", user=user, case=case)


_SETTINGS_AUDITED = False


def audit_settings_changes() -> None:
    """Audit every insert, change and deletion of a settings row in the transaction that makes it.

    Settings are edited through the admin pages' generic CRUD, not a service, so the audit
    row is added by a flush hook instead (once per process).
    """
    global _SETTINGS_AUDITED
    if _SETTINGS_AUDITED:
        return
    from flask import g, has_app_context
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from portal.models import CalendarDay, DeadlineRule

    settings = (DeadlineRule, CalendarDay)

    @event.listens_for(Session, "before_flush")
    def _audit(session, _context, _instances):
        # The type is checked first: is_modified() compares every attribute of every dirty object.
        changes = [("settings.create", o) for o in session.new if isinstance(o, settings)] + \
                  [("settings.update", o) for o in session.dirty
                   if isinstance(o, settings) and session.is_modified(o)] + \
                  [("settings.delete", o) for o in session.deleted if isinstance(o, settings)]
        user = getattr(g, "user", None) if has_app_context() else None
        for action, obj in changes:
            session.add(AuditEvent(at=utcnow(), user_id=getattr(user, "id", None),
                                   username=getattr(user, "username", None), action=action,
                                   detail=json.dumps({"table": obj.__tablename__, "row": repr(obj)},
                                                     ensure_ascii=False),
                                   remote_addr=request.remote_addr if has_request_context() else None))
    _SETTINGS_AUDITED = True
