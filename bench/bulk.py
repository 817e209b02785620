"""A database of many demo-shaped cases, for the benchmarks (``bench/step.py``, ``bench/load.py``).

A few template cases are driven through the real services to every step of the chain; then their
engine-produced states are copied in bulk. Each copy gets its own task ids (in its workflow state and
its work items), its own parties (names and valid ID numbers of its own, so no one looks like a repeat
petitioner of every case), and the audit entries of its template (register, each completed step),
so ``flask portal check`` holds on the result. Works on SQLite and on PostgreSQL.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The stage each template case waits at (None: closed), in the order of the chain.
STAGES = ["triage", "dispatch", "handle", "feedback", "verify", "close", None]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华平刚桂英建国玉兰志强春梅海燕红霞"


def triage_heavy(j: int) -> int:
    """Which template the j-th copy follows: two in three wait at triage, the rest spread over the stages
    (``bench/step.py`` completes triage steps, so it needs many of them)."""
    return 0 if j % 3 else j // 3 % len(STAGES)


def reset_schema(url: str) -> None:
    """Drop and recreate the ``public`` schema of a PostgreSQL database (its data is gone)."""
    from sqlalchemy import create_engine, text
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _person(case_id: int, seq: int) -> tuple[str, str]:
    """A name and a valid ID number of a party of a copied case (distinct per case and seat)."""
    from portal.idcard import check_digit
    n = case_id * 4 + seq
    name = SURNAMES[n % len(SURNAMES)] + GIVEN[n // len(SURNAMES) % len(GIVEN)] + GIVEN[n % 7 * 3 % len(GIVEN)]
    born = f"{1940 + n % 60}{1 + n // 60 % 12:02d}{1 + n // 720 % 28:02d}"
    first17 = f"110105{born}{n // 20160 % 1000:03d}"
    return name, first17 + check_digit(first17)


def _templates(password: str) -> list[int]:
    """The test county with its users (``password``), and one case driven to each stage of STAGES."""
    from portal.services.cases import register_case
    from tests.conftest import STEP_FORMS, build_test_county, do_step, intake_data, user
    build_test_county(password)
    templates = []
    for stage in STAGES:
        case = register_case(user("window"), intake_data())
        for step in STEP_FORMS:
            if step == stage:
                break
            do_step(case.id, step)
        templates.append(case.id)
    return templates


def _snapshot(case_id: int) -> tuple[dict, list[dict], list[dict], list[dict]]:
    """A template case's row, parties, work items and audit entries, as column dicts."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import AuditEvent, Case, Party, WorkItem

    def columns(model, row, skip):
        return {c.key: getattr(row, c.key) for c in model.__table__.columns if c.key not in skip}
    case = db.session.get(Case, case_id)
    items = list(db.session.scalars(select(WorkItem).where(WorkItem.case_id == case_id).order_by(WorkItem.id)))
    index = {w.id: i for i, w in enumerate(items)}
    events = []
    for e in db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id)):
        event = columns(AuditEvent, e, ("id", "case_id", "work_item_id"))
        event["item_index"] = index.get(e.work_item_id)
        event["detail"] = (e.detail or "").replace(case.code, "{code}") or None
        events.append(event)
    return (columns(Case, case, ("id", "code")),
            [columns(Party, p, ("id", "case_id")) for p in case.parties],
            [{**columns(WorkItem, w, ("id", "case_id", "claimed_by_id", "claimed_at")), "notified": True}
             for w in items],
            events)


def _next_id(model) -> int:
    from sqlalchemy import func, select

    from portal.extensions import db
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def build(url: str, n_cases: int, password: str, template_of: Callable[[int], int] = triage_heavy,
          chunk: int = 2000) -> None:
    """Migrate the (empty) database at ``url`` and fill it with ``n_cases`` cases (templates included);
    ``template_of(j)`` picks the stage (an index into STAGES) of the j-th copy."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, text

    from portal import create_app
    from portal.extensions import db
    from portal.models import AuditEvent, Case, Party, WorkItem
    from portal.services.statistics import refresh_statistics

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        templates = _templates(password)
        snapshots = [_snapshot(i) for i in templates]
        case_id, item_id, event_id = _next_id(Case), _next_id(WorkItem), _next_id(AuditEvent)
        # The copies were last changed a day ago: a county's cases are not all changed in its last minutes
        # (the figures' worker counts the cases changed in its last round's margin again on every round,
        # and every dashboard adds them up from their rows).
        settled = snapshots[0][0]["updated_at"] - timedelta(days=1)
        copies = n_cases - len(templates)
        for start in range(0, copies, chunk):
            cases, parties, items, events = [], [], [], []
            for j in range(start, min(start + chunk, copies)):
                fields, tparties, titems, tevents = snapshots[template_of(j)]
                code = f"MB{case_id:010d}"
                fresh: dict[str, str] = {}  # every task id of the copy is new, as in a real case
                state = UUID_RE.sub(lambda m, f=fresh: f.setdefault(m.group(0), str(uuid.uuid4())),
                                    fields["wf_state"])
                cases.append({**fields, "id": case_id, "code": code, "wf_state": state, "updated_at": settled})
                for p in tparties:
                    name, id_number = _person(case_id, p["seq"])
                    parties.append({**p, "case_id": case_id, "name": name,
                                    "id_number": id_number if p["id_number"] else None})
                ids = list(range(item_id, item_id + len(titems)))
                items += [{**w, "id": i, "case_id": case_id, "task_id": fresh.get(w["task_id"], str(uuid.uuid4()))}
                          for i, w in zip(ids, titems, strict=True)]
                for e in tevents:
                    index = e["item_index"]
                    events.append({**{k: v for k, v in e.items() if k != "item_index"}, "id": event_id,
                                   "case_id": case_id, "work_item_id": None if index is None else ids[index],
                                   "detail": e["detail"].replace("{code}", code) if e["detail"] else None})
                    event_id += 1
                case_id += 1
                item_id += len(titems)
            db.session.execute(insert(Case), cases)
            db.session.execute(insert(Party), parties)
            db.session.execute(insert(WorkItem), items)
            db.session.execute(insert(AuditEvent), events)
            db.session.commit()
        if db.engine.dialect.name == "postgresql":  # the rows above were given their ids: move the sequences on
            for table in ("mediation_case", "work_item", "audit_event"):
                db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT max(id) FROM {table}))"))
            db.session.commit()
        refresh_statistics()  # as the portal's worker does at its start
