"""Fixtures: one migrated database per run (SQLite file, or PostgreSQL when
PORTAL_TEST_DATABASE_URL says so), a small county, one user per role, and
helpers to log in and to drive a case to any step."""
from __future__ import annotations

import os
import re
import tempfile
from contextlib import contextmanager, nullcontext
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, func, select, text

from portal import create_app
from portal.clock import frozen_at, utcnow
from portal.extensions import db

PASSWORD = "test-pass-1"
USERS = [  # username, roles, org code
    ("window", ["intake_clerk"], "CENTER"), ("dispatch", ["dispatcher"], "CENTER"),
    ("verify", ["verifier"], "CENTER"), ("director", ["director"], "CENTER"),
    ("sifa", ["dept_handler"], "D03"), ("renshe", ["dept_handler"], "D06"), ("sifalead", ["unit_leader"], "D03"),
    ("grid", ["grid_member"], "T01V01G1"), ("admin", ["Admin"], "CENTER"),
    ("cun", ["mediator"], "T01V02"), ("xiang", ["township_staff"], "T01"), ("fayuan", ["dept_handler"], "D04"),
    # the assistance offices: civil affairs (relief), the legal aid center, the judicial-aid review group
    ("minzheng", ["assistance_handler"], "D13"), ("yuanzhu", ["assistance_handler"], "D03"),
    ("zhengfa", ["assistance_handler"], "D01"),
]
OFFICES = {"relief_office": "D13", "legal_aid_office": "D03", "judicial_aid_office": "D01"}
CASE_TABLES = ["case_figures", "figure_day", "step_dwell_day", "rollup_mark",
               "api_idempotency_key", "document_delivery", "session_appointment", "citizen_rating", "party_consent",
               "grid_report", "case_migration", "service_referral", "print_job", "dossier_number", "case_attachment",
               "case_investigation", "mediation_agreement", "notification", "case_comment", "mediation_session",
               "judicial_confirmation",
               "deadline_pause", "extension_request", "case_score", "supervision_card", "audit_event", "work_item",
               "case_branch", "party", "mediation_case"]


def _database_url(tmp: Path) -> str:
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp / 'test.db'}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def _small_county():
    from portal.demo import county
    towns = [t for t in county.TOWNSHIPS if t["code"] in ("T01", "T02")]
    return towns, county.DEPARTMENTS, county.INDUSTRY_COMMITTEES[:2], county.STUDIOS[:1]


@pytest.fixture(scope="session")
def app():
    tmp = Path(tempfile.mkdtemp(prefix="portal-test-"))
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": _database_url(tmp), "WTF_CSRF_ENABLED": False,
                      "SERVER_NAME": None, "SECRET_KEY": "test", "UPLOAD_FOLDER": f"{tmp / 'uploads'}/",
                      "PORTAL_PRINT_FOLDER": str(tmp / "prints"), "PORTAL_PRINT_PROCESSES": 2})
    with app.app_context():
        upgrade()
        build_test_county(PASSWORD)
        from portal.models import ProcessVersion
        app.config["TEST_SHIPPED_VERSIONS"] = set(db.session.scalars(select(ProcessVersion.id)))
    yield app


def build_test_county(password: str) -> None:
    """A migrated database becomes a working portal with two townships and one user per role."""
    from portal.services.accounts import create_user
    from portal.services.reference import load_county
    from portal.services.setup import initialise_portal
    initialise_portal()
    load_county(*_small_county())
    for username, roles, org in USERS:
        create_user(username, username, roles, org, password)
    from portal.services.settings import set_setting
    for key, code in OFFICES.items():
        set_setting(None, key, code)


def _truncate_case_tables(attempts: int = 5) -> None:
    """TRUNCATE locks the tables one after another. The timer worker of servers a test module keeps
    running (tests/deploy) may hold one of them and wait for another: PostgreSQL then ends one of the
    two transactions. When it ends this one, it is tried again (the worker's round retries by itself)."""
    import time

    from psycopg.errors import DeadlockDetected
    from sqlalchemy.exc import OperationalError
    for attempt in range(attempts):
        try:
            db.session.execute(text(f"TRUNCATE {', '.join(CASE_TABLES)} RESTART IDENTITY CASCADE"))
            return
        except OperationalError as exc:
            if not isinstance(exc.orig, DeadlockDetected) or attempt == attempts - 1:
                raise
            db.session.rollback()
            time.sleep(0.2)


@pytest.fixture(autouse=True)
def _clean_cases(app):
    yield
    with app.app_context():
        db.session.rollback()
        if db.engine.dialect.name == "postgresql":
            _truncate_case_tables()
        else:
            for table in CASE_TABLES:
                db.session.execute(text(f"DELETE FROM {table}"))
        # a version a test published is withdrawn: the next test starts on the shipped processes
        from portal.models import ProcessDraft, ProcessStatus, ProcessVersion
        db.session.query(ProcessVersion).filter(
            ProcessVersion.id.not_in(app.config["TEST_SHIPPED_VERSIONS"]),
            ProcessVersion.status == ProcessStatus.PUBLISHED).update({"status": ProcessStatus.ROLLED_BACK})
        db.session.query(ProcessDraft).delete()
        db.session.commit()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login_as(client):
    def login(username: str, password: str = PASSWORD):
        client.get("/logout/")
        resp = client.post("/login/", data={"username": username, "password": password})
        assert resp.status_code == 302 and "/login" not in resp.headers["Location"], f"login {username} failed"
        return client
    return login


def user(username: str):
    from portal.models import PortalUser
    return db.session.scalar(select(PortalUser).where(PortalUser.username == username))


def unit_id(code: str) -> int:
    from portal.models import OrgUnit
    return db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == code))


def intake_data(**overrides):
    from portal.models import DisputeType, OrgUnit
    from portal.services.cases import IntakeData, PartyData
    dtype = db.session.scalar(select(DisputeType).where(DisputeType.code == "0301"))
    town = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "T01"))
    village = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "T01V02"))
    data = dict(title="张三与李四宅基地边界纠纷", dispute_type_id=dtype.id, township_id=town.id,
                village_id=village.id, place_kind="residence", place_detail="二组", facts="两家因宅基地边界争执。",
                requests="请求确定边界。", amount="5000", people_count=2, source_channel="walk_in",
                parties=[PartyData("applicant", "张三", "11010519491231002X", "13800138000", "二组12号"),
                         PartyData("respondent", "李四", "", "13900139000", "二组14号")])
    data.update(overrides)
    return IntakeData(**data)


AGREEMENT = {"agreement_facts": "双方因宅基地边界发生争执，申请人新砌围墙越界约0.3米，对纠纷负主要责任",
             "agreement_terms": "一、申请人于十日内拆除越界围墙；二、边界按原老界址确定",
             "performance_terms": "申请人自行拆除，于协议签订之日起十日内履行完毕"}

STEP_FORMS = {
    "triage": ("dispatch", lambda: {"complexity": "general", "risk_level": "low", "resolution_mode": "in_center",
                                    "opinion": "事实清楚"}),
    "dispatch": ("dispatch", lambda: {"escalate": "no", "assigned_unit_id": unit_id("D03"),
                                      "instructions": "请3日内调处"}),
    "accept": ("sifa", lambda: {"accepted": "yes", "reason": ""}),
    "handle": ("sifa", lambda: {"result": "written_agreement", "process_notes": "双方达成协议", "next_channel": "",
                                "agreement_date": utcnow().date(), "applicant_signed": True,
                                "respondent_signed": True, **AGREEMENT}),
    "feedback": ("sifa", lambda: {"fulfilment": "fulfilled", "summary": "已履行"}),
    "followup": ("verify", lambda: {"method": "phone", "applicant_satisfaction": "satisfied",
                                    "respondent_satisfaction": "basically", "fulfilment": "fulfilled",
                                    "notes": "双方均表示协议已履行"}),
    "verify": ("verify", lambda: {"passed": "yes", "opinion": ""}),
    "close": ("dispatch", lambda: {"closing_type": "mediated", "summary": "案结事了"}),
}
CHAIN = list(STEP_FORMS)


def session_form(**overrides) -> dict:
    """A mediation session in the center, held now (county wall-clock time, as the form gives it)."""
    from zoneinfo import ZoneInfo
    local_now = utcnow().replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    return {"held_at": local_now, "kind": "peoples", "place": "中心调解室", "mediators": "王明（司法局调解员）",
            "recorder": "赵丽", "attendees": "", "applicant_statement": "要求按老界址确定边界",
            "respondent_statement": "同意按老界址，但要求对方拆除新砌围墙", "result": "agreed", "notes": "",
            **overrides}


def investigation_form(**overrides) -> dict:
    """An investigation held now (county wall-clock time, as the form gives it)."""
    return {"held_at": session_form()["held_at"], "place": "文庙社区二组李四家中", "investigators": "王明、赵丽",
            "recorder": "赵丽", "subject": "刘五", "subject_info": "男，62岁，二组村民小组长，双方邻居",
            "present": "", "matter": "宅基地老界址的位置",
            "content": "问：你知道两家老界址在哪里吗？\n答：老界址在原来那棵核桃树往东一米，大家都晓得。", **overrides}


def record_investigation(case_id: int, username: str = "sifa", **overrides):
    from portal.services.investigations import InvestigationData
    from portal.services.investigations import record_investigation as record
    return record(user(username), case_id, InvestigationData(**investigation_form(**overrides)))


def record_session(case_id: int, username: str = "sifa", **overrides):
    from portal.services.sessions import SessionData
    from portal.services.sessions import record_session as record
    return record(user(username), case_id, SessionData(**session_form(**overrides)))


def do_step(case_id: int, step: str, **overrides):
    """Complete the case's open ``step`` as its usual user with the usual form (plus ``overrides``);
    before handling, the mediation session the result rests on is recorded when there is none."""
    from portal.services.cases import complete_task
    from portal.services.sessions import sessions_of
    username, form = STEP_FORMS[step]
    if step == "handle" and not sessions_of(case_id):
        record_session(case_id, username)
    return complete_task(user(username), open_item(case_id, step).id, {**form(), **overrides})


def open_branch_item(branch_id: int, form_key: str | None = None):
    """The branch's open work item (of one step, when several are open)."""
    from portal.models import WorkItem, WorkItemStatus
    query = select(WorkItem).where(WorkItem.branch_id == branch_id, WorkItem.status == WorkItemStatus.OPEN)
    if form_key:
        query = query.where(WorkItem.form_key == form_key)
    items = list(db.session.scalars(query))
    assert len(items) == 1, f"expected one open {form_key or 'item'} of branch {branch_id}, got {items}"
    return items[0]


def do_branch_step(branch_id: int, form_key: str, username: str, form: dict):
    from portal.services.cases import complete_task
    return complete_task(user(username), open_branch_item(branch_id, form_key).id, form)


def open_item(case_id: int, form_key: str | None = None):
    """The case's open work item (of one step, when several are open)."""
    from portal.models import WorkItem, WorkItemStatus
    query = select(WorkItem).where(WorkItem.case_id == case_id, WorkItem.status == WorkItemStatus.OPEN,
                                   WorkItem.branch_id.is_(None))
    if form_key:
        query = query.where(WorkItem.form_key == form_key)
    return db.session.scalars(query.order_by(WorkItem.id)).first()


@pytest.fixture
def make_case(ctx):
    """Register a case and drive it until ``until`` (a step name) is the open step, or to closed
    (at a frozen time ``at`` when given)."""
    from portal.services.cases import register_case

    def make(until: str | None = "triage", at=None, **overrides):
        with frozen_at(at) if at else nullcontext():
            case = register_case(user("window"), intake_data(**overrides))
            for step in CHAIN:
                if step == "handle":  # the unit has sat with the parties once
                    record_session(case.id)
                if step == until:
                    break
                do_step(case.id, step)
        return case.id
    return make


def row_counts() -> dict[str, int]:
    """How many rows each case table holds (to show a refused action changed nothing)."""
    from portal.models import (
        AuditEvent,
        Branch,
        Case,
        CaseAttachment,
        CaseScore,
        ExtensionRequest,
        Investigation,
        MediationSession,
        Party,
        ServiceReferral,
        SupervisionCard,
        WorkItem,
    )
    return {m.__tablename__: db.session.scalar(select(func.count()).select_from(m))
            for m in (Case, Party, WorkItem, AuditEvent, SupervisionCard, ExtensionRequest, CaseScore,
                      MediationSession, Investigation, CaseAttachment, ServiceReferral, Branch)}


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


@contextmanager
def statements():
    """The SQL statements run inside the block, as a list (to show what a page or a worker round reads)."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)
    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)

