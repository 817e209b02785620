"""Cases (and branches) moved to a newer version of their process, kept so a move can be undone."""
from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Integer, Text
from sqlalchemy.orm import relationship


class CaseMigration(Model):
    """One move of a case's workflow (or a branch's, when ``branch_id`` is set) from one process
    version to another: the state before, to put it back, and the state after, to tell whether the
    case has moved on since."""

    __tablename__ = "case_migration"
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("mediation_case.id", name="fk_case_migration_case"), nullable=False,
                     index=True)
    branch_id = Column(Integer, ForeignKey("case_branch.id", name="fk_case_migration_branch"), nullable=True,
                       index=True)
    from_version_id = Column(Integer, ForeignKey("process_version.id", name="fk_case_migration_from_version"),
                             nullable=False)
    to_version_id = Column(Integer, ForeignKey("process_version.id", name="fk_case_migration_to_version"),
                           nullable=False, index=True)
    old_state = Column(Text, nullable=False)
    new_state = Column(Text, nullable=False)  # the workflow as the move left it (a later step changes it)
    migrated_by_id = Column(Integer, ForeignKey("ab_user.id", name="fk_case_migration_migrated_by"), nullable=True)
    migrated_at = Column(DateTime, nullable=False, index=True)
    reverted_by_id = Column(Integer, ForeignKey("ab_user.id", name="fk_case_migration_reverted_by"), nullable=True)
    reverted_at = Column(DateTime, nullable=True)

    case = relationship("Case")
    branch = relationship("Branch")
    from_version = relationship("ProcessVersion", foreign_keys=[from_version_id])
    to_version = relationship("ProcessVersion", foreign_keys=[to_version_id])
    migrated_by = relationship("PortalUser", foreign_keys=[migrated_by_id])
    reverted_by = relationship("PortalUser", foreign_keys=[reverted_by_id])
