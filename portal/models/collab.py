"""Working together on a case: internal comments and in-app notifications."""
from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship


class CaseComment(Model):
    """An internal note on a case (never shown to the parties)."""

    __tablename__ = "case_comment"
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("mediation_case.id"), nullable=False, index=True)
    author_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    created_at = Column(DateTime, nullable=False)
    body = Column(Text, nullable=False)
    notified = Column(Boolean, nullable=False, default=False, server_default="0")  # outbox for the worker
    author = relationship("PortalUser")


class Notification(Model):
    """An in-app message to one user: a new task, a card raised, a case returned, a comment.

    Written by the worker after the action's transaction has committed (the work item or the
    comment is the outbox), at most once per user and source."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_unread", "user_id", "read"),
                      UniqueConstraint("user_id", "source", name="uq_notification_user_source"))
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    case_id = Column(Integer, ForeignKey("mediation_case.id"), nullable=True, index=True)
    kind = Column(String(32), nullable=False)     # new_task, card, returned, comment
    text = Column(String(300), nullable=False)
    url = Column(String(200), nullable=True)
    source = Column(String(40), nullable=False)   # "item:<id>" or "comment:<id>"
    created_at = Column(DateTime, nullable=False)
    read = Column(Boolean, nullable=False, default=False, server_default="0")
