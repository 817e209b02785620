"""Forms an administrator defines in the browser, for new steps of the processes."""
from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship


class FormDefinition(Model):
    """A form as data: its key (the BPMN form key of the steps that use it) and its fields as JSON
    (``portal.services.formdefs`` reads and checks them). The shipped forms stay WTForms classes."""

    __tablename__ = "form_definition"
    __table_args__ = (UniqueConstraint("key", name="uq_form_definition_key"),)
    id = Column(Integer, primary_key=True)
    key = Column(String(41), nullable=False)
    title = Column(String(200), nullable=False)
    description = Column(Text, nullable=True)
    fields = Column(Text, nullable=False)  # JSON list of fields: name, label, type, required, choices …
    created_at = Column(DateTime, nullable=False)
    created_by_id = Column(Integer, ForeignKey("ab_user.id", name="fk_form_definition_created_by"), nullable=True)
    updated_at = Column(DateTime, nullable=False)
    updated_by_id = Column(Integer, ForeignKey("ab_user.id", name="fk_form_definition_updated_by"), nullable=True)
    lock_version = Column(Integer, nullable=False, default=1)
    __mapper_args__ = {"version_id_col": lock_version}

    created_by = relationship("PortalUser", foreign_keys=[created_by_id])
    updated_by = relationship("PortalUser", foreign_keys=[updated_by_id])

    def __repr__(self) -> str:
        return self.key
