"""Online self-service (跨域线上调): the parties' consent to online handling and electronic service,
documents served electronically (电子送达), online mediation sessions scheduled ahead, the
citizens' ratings, and the per-address request counters of the public pages."""
from __future__ import annotations

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, Boolean, Column, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from portal.models.base import enum_column_type
from portal.models.case import LabelledEnum


class ConsentChannel(LabelledEnum):
    ONLINE_FILING = "online_filing"  # ticked by the citizen on the public filing page
    WINDOW = "window"                # signed at a window (送达地址确认书), recorded by staff

    @staticmethod
    def LABELS():
        C = ConsentChannel
        return {C.ONLINE_FILING: _l("Given when filing online"), C.WINDOW: _l("Signed at the window")}


class PartyConsent(Model):
    """A party's consent to online handling (民诉法 §16) and to electronic service (§90)."""

    __tablename__ = "party_consent"
    __table_args__ = (UniqueConstraint("party_id", name="uq_party_consent_party"),)
    id = Column(Integer, primary_key=True)
    party_id = Column(Integer, ForeignKey("party.id", name="fk_party_consent_party"), nullable=False)
    case_id = Column(Integer, ForeignKey("mediation_case.id", name="fk_party_consent_case"), nullable=False,
                     index=True)
    online_handling = Column(Boolean, nullable=False)
    e_service = Column(Boolean, nullable=False)
    channel = Column(enum_column_type(ConsentChannel), nullable=False)
    given_at = Column(DateTime, nullable=False)
    recorded_by_id = Column(Integer, ForeignKey("ab_user.id", name="fk_party_consent_user"), nullable=True)
    party = relationship("Party")


class DeliveryStatus(LabelledEnum):
    SERVED = "served"          # the link is out, not opened yet
    RECEIVED = "received"      # opened: served electronically
    PAPER_DUE = "paper_due"    # not opened in time: to be served on paper
    PAPER_DONE = "paper_done"  # served on paper

    @staticmethod
    def LABELS():
        S = DeliveryStatus
        return {S.SERVED: _l("Sent, not yet opened"), S.RECEIVED: _l("Received"),
                S.PAPER_DUE: _l("Not opened: to be served on paper"), S.PAPER_DONE: _l("Served on paper")}


class DocumentDelivery(Model):
    """One document served electronically to one party: the PDF as served, and its unguessable link."""

    __tablename__ = "document_delivery"
    __table_args__ = (UniqueConstraint("token", name="uq_document_delivery_token"),)
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("mediation_case.id", name="fk_document_delivery_case"), nullable=False,
                     index=True)
    party_id = Column(Integer, ForeignKey("party.id", name="fk_document_delivery_party"), nullable=False)
    document_key = Column(String(64), nullable=False)
    title = Column(String(100), nullable=False)
    stored_name = Column(String(100), nullable=False)   # <sha256>.pdf under UPLOAD_FOLDER
    size = Column(Integer, nullable=False)
    token = Column(String(64), nullable=False)
    status = Column(enum_column_type(DeliveryStatus), nullable=False, index=True)
    served_at = Column(DateTime, nullable=False)
    served_by_id = Column(Integer, ForeignKey("ab_user.id", name="fk_document_delivery_server"), nullable=False)
    paper_after = Column(DateTime, nullable=False, index=True)  # unopened by then: serve on paper
    received_at = Column(DateTime, nullable=True)
    received_from = Column(String(64), nullable=True)            # the address that first opened it
    opens = Column(Integer, nullable=False, default=0)
    paper_item_id = Column(Integer, ForeignKey("work_item.id", name="fk_document_delivery_paper_item"),
                           nullable=True)
    paper_at = Column(DateTime, nullable=True)
    paper_by_id = Column(Integer, ForeignKey("ab_user.id", name="fk_document_delivery_paper_by"), nullable=True)
    paper_method = Column(String(32), nullable=True)
    paper_note = Column(String(300), nullable=True)
    party = relationship("Party")
    served_by = relationship("PortalUser", foreign_keys=[served_by_id])
    paper_by = relationship("PortalUser", foreign_keys=[paper_by_id])


class AppointmentStatus(LabelledEnum):
    SCHEDULED = "scheduled"
    HELD = "held"

    @staticmethod
    def LABELS():
        S = AppointmentStatus
        return {S.SCHEDULED: _l("Scheduled"), S.HELD: _l("Held")}


class SessionAppointment(Model):
    """An online mediation session set ahead: when, the meeting link, who is to join; once held, who
    joined and the session record (调解记录) it became."""

    __tablename__ = "session_appointment"
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("mediation_case.id", name="fk_session_appointment_case"), nullable=False,
                     index=True)
    starts_at = Column(DateTime, nullable=False)
    meeting_link = Column(String(300), nullable=False)
    participant_ids = Column(Text, nullable=False)    # JSON list of party ids
    others = Column(String(300), nullable=True)       # mediators and others to join (names)
    status = Column(enum_column_type(AppointmentStatus), nullable=False)
    scheduled_by_id = Column(Integer, ForeignKey("ab_user.id", name="fk_session_appointment_user"), nullable=False)
    scheduled_at = Column(DateTime, nullable=False)
    attended_ids = Column(Text, nullable=True)        # JSON list of the party ids who joined
    session_id = Column(Integer, ForeignKey("mediation_session.id", name="fk_session_appointment_session"),
                        nullable=True)
    scheduled_by = relationship("PortalUser")
    session = relationship("MediationSession")


class CitizenRating(Model):
    """A party's stars (1-5) and words on a closed case, given once on the tracking page."""

    __tablename__ = "citizen_rating"
    __table_args__ = (UniqueConstraint("case_id", "party_id", name="uq_citizen_rating_party"),)
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("mediation_case.id", name="fk_citizen_rating_case"), nullable=False,
                     index=True)
    party_id = Column(Integer, ForeignKey("party.id", name="fk_citizen_rating_party"), nullable=False)
    stars = Column(Integer, nullable=False)
    comment = Column(Text, nullable=True)
    rated_at = Column(DateTime, nullable=False)


class RateWindow(Model):
    """How many requests one address made to one kind of public action in one fixed window: shared by
    every app server of a deployment, so a limit holds across all of them."""

    __tablename__ = "rate_window"
    bucket = Column(String(120), primary_key=True)     # "<action>:<address>"
    window_start = Column(BigInteger, primary_key=True)  # epoch seconds
    hits = Column(Integer, nullable=False)
