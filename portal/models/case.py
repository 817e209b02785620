"""A dispute case (一案一码), its parties, and the enums that describe it."""
from __future__ import annotations

import enum
import functools

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text, event, text
from sqlalchemy.orm import deferred, query_expression, relationship

from portal.models.base import enum_column_type


class LabelledEnum(enum.Enum):
    """An enum whose members have a translatable label (``LABELS`` on the class)."""

    @property
    def label(self):
        return _labels(type(self))[self]

    @classmethod
    def choices(cls):
        """(value, label) pairs in the members' order; the labels translate when shown, so a form
        builds the list once, at its definition."""
        labels = _labels(cls)
        return [(m.value, labels[m]) for m in cls]


@functools.cache
def _labels(enum_class) -> dict:
    """An enum's labels, built once: each is a lazy string that translates when shown (a list of
    fifty cases asks for a label on every row)."""
    return enum_class.LABELS()


class CaseStatus(LabelledEnum):
    REGISTERED = "registered"
    TRIAGING = "triaging"
    DISPATCHING = "dispatching"
    ACCEPTING = "accepting"
    REFERRING = "referring"
    REFERRED = "referred"
    HANDLING = "handling"
    FEEDBACK = "feedback"
    FOLLOWING_UP = "following_up"
    VERIFYING = "verifying"
    CLOSING = "closing"
    CLOSED = "closed"
    ESCALATED = "escalated"
    PRE_SUIT = "pre_suit"
    COURT_FILING = "court_filing"
    FOLLOWUP_SCHEDULED = "followup_scheduled"

    @staticmethod
    def LABELS():
        S = CaseStatus
        return {S.REGISTERED: _l("Registered"), S.TRIAGING: _l("Being triaged"), S.DISPATCHING: _l("Awaiting dispatch"),
                S.ACCEPTING: _l("Awaiting acceptance by the unit"),
                S.REFERRING: _l("To be referred to the lawful channel"),
                S.REFERRED: _l("Referred: following the lawful channel"),
                S.HANDLING: _l("Being handled"), S.FEEDBACK: _l("Awaiting feedback"),
                S.FOLLOWING_UP: _l("Follow-up visits"),
                S.VERIFYING: _l("Being verified"), S.CLOSING: _l("Awaiting closing"), S.CLOSED: _l("Closed"),
                S.ESCALATED: _l("Escalated to the county"), S.PRE_SUIT: _l("Pre-filing mediation"),
                S.COURT_FILING: _l("Awaiting court registration"),
                S.FOLLOWUP_SCHEDULED: _l("Follow-up scheduled after the performance date")}


class LawfulChannel(LabelledEnum):
    """Where the law sends a matter (信访工作条例 §31): mediation, or the procedure of its own."""

    MEDIATION = "mediation"
    LITIGATION = "litigation"
    LABOUR_ARBITRATION = "labour_arbitration"
    LAND_ARBITRATION = "land_arbitration"
    ADMIN_REVIEW = "admin_review"
    PETITION = "petition"

    @staticmethod
    def LABELS():
        C = LawfulChannel
        return {C.MEDIATION: _l("Mediation"), C.LITIGATION: _l("Litigation (people's court)"),
                C.LABOUR_ARBITRATION: _l("Labour dispute arbitration"),
                C.LAND_ARBITRATION: _l("Rural land contract arbitration"),
                C.ADMIN_REVIEW: _l("Administrative review"), C.PETITION: _l("Petition (信访) procedure")}


class SourceChannel(LabelledEnum):
    WALK_IN = "walk_in"
    PHONE = "phone"
    ONLINE = "online"
    GRID = "grid"
    HOTLINE_12345 = "hotline"
    COURT = "court"
    POLICE = "police"
    GOVERNMENT = "government"
    PROCURATORATE = "procuratorate"
    PETITION = "petition"

    @staticmethod
    def LABELS():
        S = SourceChannel
        return {S.WALK_IN: _l("Walk-in"), S.PHONE: _l("Phone"), S.ONLINE: _l("Online"),
                S.GRID: _l("Grid member report"), S.HOTLINE_12345: _l("12345 hotline"),
                S.COURT: _l("Transferred by the court"), S.POLICE: _l("Transferred by the police"),
                S.GOVERNMENT: _l("Transferred by a government body"),
                S.PROCURATORATE: _l("Transferred by the procuratorate"),
                S.PETITION: _l("Transferred by the petition bureau")}


class PlaceKind(LabelledEnum):
    RESIDENCE = "residence"
    PUBLIC = "public"
    CROSS_REGION = "cross_region"

    @staticmethod
    def LABELS():
        P = PlaceKind
        return {P.RESIDENCE: _l("Residence"), P.PUBLIC: _l("Public place"), P.CROSS_REGION: _l("Cross-region")}


class PartyKind(LabelledEnum):
    APPLICANT = "applicant"
    RESPONDENT = "respondent"
    AGENT = "agent"

    @staticmethod
    def LABELS():
        P = PartyKind
        return {P.APPLICANT: _l("Applicant"), P.RESPONDENT: _l("Respondent"), P.AGENT: _l("Agent")}


class Case(Model):
    """One dispute from the window to closed.

    The row holds the case facts, the serialized workflow state (without its
    spec, which lives in ``process_version``) and ``lock_version``, which the
    ORM checks on every UPDATE so two writers cannot both win.
    """

    __tablename__ = "mediation_case"
    __table_args__ = (
        # the figures: a township's cases by registration, the open cases past their deadline
        Index("ix_mediation_case_township_registered", "township_id", "registered_at"),
        # the lists of cases, newest first (the id orders the cases of one moment, as a bulk import makes)
        Index("ix_mediation_case_registered_id", "registered_at", "id"),
        Index("ix_mediation_case_status_due", "status", "due_at"),
        # the figures: the cases changed since the day sums last took them; repeat petitions in a period
        Index("ix_mediation_case_updated", "updated_at"),
        Index("ix_mediation_case_previous_registered", "previous_visit_at", "registered_at"),
        # the cases open now past their deadline
        Index("ix_mediation_case_open_due", "due_at", "paused_since",
              sqlite_where=text("status != 'closed'"), postgresql_where=text("status != 'closed'")),
    )
    id = Column(Integer, primary_key=True)
    code = Column(String(32), unique=True, nullable=True)
    title = Column(String(200), nullable=False)
    dispute_type_id = Column(Integer, ForeignKey("dispute_type.id"), nullable=False, index=True)
    township_id = Column(Integer, ForeignKey("org_unit.id"), nullable=False)  # indexed with registered_at
    village_id = Column(Integer, ForeignKey("org_unit.id"), nullable=True)
    place_kind = Column(enum_column_type(PlaceKind), nullable=False)
    place_detail = Column(String(200), nullable=True)
    facts = Column(Text, nullable=False)
    requests = Column(Text, nullable=False)
    amount = Column(Numeric(14, 2), nullable=True)
    people_count = Column(Integer, nullable=False, default=2)
    source_channel = Column(enum_column_type(SourceChannel), nullable=False)
    route = Column(enum_column_type(LawfulChannel), nullable=False, default=LawfulChannel.MEDIATION)
    status = Column(enum_column_type(CaseStatus), nullable=False)  # indexed with due_at
    current_step = Column(String(100), nullable=True)
    complexity = Column(String(16), nullable=True)
    risk_level = Column(String(16), nullable=True)
    resolution_mode = Column(String(32), nullable=True)
    assigned_unit_id = Column(Integer, ForeignKey("org_unit.id"), nullable=True, index=True)
    due_at = Column(DateTime, nullable=True, index=True)
    paused_since = Column(DateTime, nullable=True)  # the deadline clock is stopped (DeadlinePause)
    verify_failures = Column(Integer, nullable=False, default=0)
    closing_type = Column(String(32), nullable=True)
    handling_result = Column(String(32), nullable=True)
    agreement_date = Column(Date, nullable=True)  # when the mediation agreement took effect
    fulfilment = Column(String(16), nullable=True)
    satisfaction = Column(String(16), nullable=True)
    dept_details = Column(Text, nullable=True)  # JSON: what the handling department records (its own form)
    accused_unit_id = Column(Integer, ForeignKey("org_unit.id"), nullable=True)  # 检举控告: never shown to it
    registered_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    registered_at = Column(DateTime, nullable=False)
    # when an applicant of the case (by ID number) last came with an earlier case: a repeat petition
    # within a period is then one comparison, not a search of every party
    previous_visit_at = Column(DateTime, nullable=True)
    closed_at = Column(DateTime, nullable=True, index=True)
    process_version_id = Column(Integer, ForeignKey("process_version.id"), nullable=False)
    # Read only by the services that run the case's workflow (they lock the case and load it with its
    # state): lists and pages of cases never carry its kilobytes.
    wf_state = deferred(Column(Text, nullable=False))
    next_timer_due_at = Column(DateTime, nullable=True, index=True)
    updated_at = Column(DateTime, nullable=False)
    lock_version = Column(Integer, nullable=False, default=1)
    __mapper_args__ = {"version_id_col": lock_version}
    # Whether another case has a party of the same ID number: read with the case by its page
    # (``queries.case_for``) or set by its registration, None when not read (a flush leaves it as it is)
    has_repeats = query_expression(expire_on_flush=False)

    # What the case refers to, for reading: the services write the ids. A relationship that may be
    # written costs every flush of a case its dependency work, and a step flushes the case each time.
    dispute_type = relationship("DisputeType", viewonly=True)
    township = relationship("OrgUnit", foreign_keys=[township_id], viewonly=True)
    village = relationship("OrgUnit", foreign_keys=[village_id], viewonly=True)
    assigned_unit = relationship("OrgUnit", foreign_keys=[assigned_unit_id], viewonly=True)
    registered_by = relationship("PortalUser", viewonly=True)
    accused_unit = relationship("OrgUnit", foreign_keys=[accused_unit_id], viewonly=True)
    process_version = relationship("ProcessVersion", viewonly=True)
    parties = relationship("Party", back_populates="case", order_by="Party.seq",
                           cascade="all, delete-orphan")

    def parties_of(self, kind: PartyKind) -> list["Party"]:
        return [p for p in self.parties if p.kind == kind]


@event.listens_for(Case, "before_update")
def _touched(_mapper, _connection, case: Case) -> None:
    """Whatever changes a case moves ``updated_at``: the API's feed of changed cases and the figures'
    day sums (which take again the cases changed since they last looked) rely on it."""
    from sqlalchemy.orm import object_session

    from portal.clock import utcnow
    session = object_session(case)
    if session is not None and session.is_modified(case, include_collections=False):
        case.updated_at = utcnow()


class Party(Model):
    """A person in a case: applicant, respondent or agent."""

    __tablename__ = "party"
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("mediation_case.id"), nullable=False, index=True)
    kind = Column(enum_column_type(PartyKind), nullable=False)
    seq = Column(Integer, nullable=False, default=0)
    name = Column(String(50), nullable=False, index=True)
    id_number = Column(String(18), nullable=True, index=True)
    phone = Column(String(20), nullable=True)
    address = Column(String(200), nullable=True)
    ethnicity = Column(String(20), nullable=True)    # 民族 (the documents ask for it)
    occupation = Column(String(100), nullable=True)  # 职业或职务 / 工作单位
    case = relationship("Case", back_populates="parties")


class Complexity(LabelledEnum):
    SIMPLE = "simple"        # 即来即办
    GENERAL = "general"      # 3 days
    COMPLEX = "complex"      # 10 days
    DIFFICULT = "difficult"  # 30 days

    @staticmethod
    def LABELS():
        C = Complexity
        return {C.SIMPLE: _l("Simple (handled on the spot)"), C.GENERAL: _l("General (3 days)"),
                C.COMPLEX: _l("Complex (10 days)"), C.DIFFICULT: _l("Difficult (30 days)")}


class RiskLevel(LabelledEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @staticmethod
    def LABELS():
        R = RiskLevel
        return {R.LOW: _l("Low"), R.MEDIUM: _l("Medium"), R.HIGH: _l("High")}


class ResolutionMode(LabelledEnum):
    AT_HOME = "at_home"          # 上门调
    ON_SITE = "on_site"          # 流动调
    ONLINE = "online"            # 线上调
    IN_CENTER = "in_center"      # 中心调解
    LITIGATION = "litigation"    # 仲裁诉讼
    PETITION = "petition"        # 信访

    @staticmethod
    def LABELS():
        M = ResolutionMode
        return {M.AT_HOME: _l("Mediation at home"), M.ON_SITE: _l("Mediation on the scene"),
                M.ONLINE: _l("Online mediation"), M.IN_CENTER: _l("Mediation in the center"),
                M.LITIGATION: _l("Arbitration or litigation"), M.PETITION: _l("Petition procedure")}


class HandlingResult(LabelledEnum):
    WRITTEN_AGREEMENT = "written_agreement"
    ORAL_AGREEMENT = "oral_agreement"
    TERMINATED = "terminated"
    REDIRECTED = "redirected"
    WITHDRAWN = "withdrawn"      # 诉前调解: the parties settled by themselves and withdrew

    @staticmethod
    def LABELS():
        H = HandlingResult
        return {H.WRITTEN_AGREEMENT: _l("Mediated: written agreement"),
                H.ORAL_AGREEMENT: _l("Mediated: oral agreement"),
                H.TERMINATED: _l("Mediation terminated"),
                H.REDIRECTED: _l("Sent to the lawful channel"),
                H.WITHDRAWN: _l("Settled by the parties and withdrawn")}


class Fulfilment(LabelledEnum):
    FULFILLED = "fulfilled"
    PARTLY = "partly"
    NOT_YET = "not_yet"
    NOT_APPLICABLE = "n_a"

    @staticmethod
    def LABELS():
        F = Fulfilment
        return {F.FULFILLED: _l("Fulfilled"), F.PARTLY: _l("Partly fulfilled"),
                F.NOT_YET: _l("Not yet fulfilled"), F.NOT_APPLICABLE: _l("Not applicable")}


class ClosingType(LabelledEnum):
    RESOLVED = "resolved"                  # 实质化解
    MEDIATED = "mediated"                  # 调解成功
    PROCEDURAL_END = "procedural_end"      # 程序性终结
    REDIRECTED = "redirected"              # 转法定途径
    POLICY_ANSWER = "policy_answer"        # 政策解答

    @staticmethod
    def LABELS():
        C = ClosingType
        return {C.RESOLVED: _l("Substantively resolved"), C.MEDIATED: _l("Mediated successfully"),
                C.PROCEDURAL_END: _l("Procedurally ended"), C.REDIRECTED: _l("Sent to the lawful channel"),
                C.POLICY_ANSWER: _l("Answered with policy explanation")}


class Satisfaction(LabelledEnum):
    SATISFIED = "satisfied"
    BASICALLY = "basically"
    DISSATISFIED = "dissatisfied"
    UNREACHABLE = "unreachable"

    @staticmethod
    def LABELS():
        S = Satisfaction
        return {S.SATISFIED: _l("Satisfied"), S.BASICALLY: _l("Basically satisfied"),
                S.DISSATISFIED: _l("Dissatisfied"), S.UNREACHABLE: _l("Could not be reached")}


class CaseScore(Model):
    """考核: how the lead unit did on one case, computed when the case closes."""

    __tablename__ = "case_score"
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("mediation_case.id"), nullable=False, unique=True)
    unit_id = Column(Integer, ForeignKey("org_unit.id"), nullable=True, index=True)
    on_time = Column(Boolean, nullable=False)
    success = Column(Boolean, nullable=False)
    satisfaction = Column(Integer, nullable=True)  # 0-100, None when no party could be reached
    score = Column(Integer, nullable=False)        # 0-100
    scored_at = Column(DateTime, nullable=False)
    unit = relationship("OrgUnit")


class ConfirmationStatus(LabelledEnum):
    APPLIED = "applied"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"

    @staticmethod
    def LABELS():
        C = ConfirmationStatus
        return {C.APPLIED: _l("Applied, awaiting the court"), C.CONFIRMED: _l("Confirmed valid"),
                C.REJECTED: _l("Application rejected")}


class JudicialConfirmation(Model):
    """司法确认 of a mediation agreement: joint application within 30 days, the court's ruling."""

    __tablename__ = "judicial_confirmation"
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("mediation_case.id"), nullable=False, unique=True)
    court = Column(String(100), nullable=False)
    applied_on = Column(Date, nullable=False)
    status = Column(enum_column_type(ConfirmationStatus), nullable=False)
    ruling_no = Column(String(100), nullable=True)   # (2026)X民特X号
    decided_on = Column(Date, nullable=True)
    recorded_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)


class MediationKind(LabelledEnum):
    """Which mediation a session is (人民调解法; 行政调解; 行业性专业性调解; 法院委派的诉前调解)."""

    PEOPLES = "peoples"
    ADMINISTRATIVE = "administrative"
    INDUSTRY = "industry"
    JUDICIAL = "judicial"

    @staticmethod
    def LABELS():
        K = MediationKind
        return {K.PEOPLES: _l("People's mediation"), K.ADMINISTRATIVE: _l("Administrative mediation"),
                K.INDUSTRY: _l("Industry mediation"), K.JUDICIAL: _l("Court-assigned pre-filing mediation")}


class SessionResult(LabelledEnum):
    AGREED = "agreed"
    PARTIAL = "partial"
    NO_AGREEMENT = "no_agreement"
    ADJOURNED = "adjourned"

    @staticmethod
    def LABELS():
        R = SessionResult
        return {R.AGREED: _l("Agreement reached"), R.PARTIAL: _l("Partly agreed"),
                R.NO_AGREEMENT: _l("No agreement"), R.ADJOURNED: _l("Adjourned to another session")}


class MediationSession(Model):
    """调解记录 (笔录): one sitting of the mediation -- when, where or online link, who, what each side said."""

    __tablename__ = "mediation_session"
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("mediation_case.id"), nullable=False, index=True)
    seq = Column(Integer, nullable=False)
    mode = Column(String(32), nullable=False)            # the case's resolution mode at the time
    kind = Column(enum_column_type(MediationKind), nullable=False)
    held_at = Column(DateTime, nullable=False)
    place = Column(String(200), nullable=True)           # residence, scene, room or court
    meeting_link = Column(String(300), nullable=True)    # 线上调
    mediators = Column(String(200), nullable=False)
    recorder = Column(String(50), nullable=True)
    attendees = Column(String(300), nullable=True)       # 参加人, e.g. the grid member on the scene
    applicant_statement = Column(Text, nullable=False)
    respondent_statement = Column(Text, nullable=False)
    result = Column(enum_column_type(SessionResult), nullable=False)
    notes = Column(Text, nullable=True)
    recorded_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    recorded_at = Column(DateTime, nullable=False)
    recorded_by = relationship("PortalUser")
