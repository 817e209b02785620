"""Benchmark: the director's dashboard and the process heat map over a million cases.

Needs PostgreSQL: ``PORTAL_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench``. The
database's schema is dropped and rebuilt. It migrates, loads the demo county (townships, villages,
departments, users), then bulk-generates cases in SQL with realistic distributions: two years of
registrations, about 93 % closed (most within days, the difficult ones in weeks), the steps of each
case as work items (done ones with their dwell times, open ones at the step they wait at, some of
them overdue), parties with repeated ID numbers (repeat petitioners), supervision cards, relief and
judicial-aid payments and social services. Then the worker's round takes the figures' day sums
(``refresh_rollups``), leaving the last ``BENCH_TAIL_HOURS`` (24) of changes to the requests, which
correct the sums by them as they would between two rounds of a worker that has been stopped that
long. Then it requests the dashboard and the heat map as the director through the real app (login,
scoping, SQL, template) several times each. ``BENCH_REUSE=1`` measures again on the cases generated
by the last run (no new generation; the day sums are taken if they are not there yet). Last line:
  dashboard_ms=<median> heatmap_ms=<median> cases=<n>
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES = int(os.environ.get("BENCH_CASES", "1000000"))
TAIL_HOURS = float(os.environ.get("BENCH_TAIL_HOURS", "24"))
RUNS = 7

# The main chain's steps in order, with the lane they wait in, as (bpmn id, name, lane, mean hours).
STEPS = [("triage", "研判", "综合调度", 3), ("dispatch", "分流交办", "综合调度", 2), ("accept", "接件", "承办单位", 1),
         ("handle", "办理", "承办单位", 60), ("feedback", "反馈", "承办单位", 8), ("followup", "回访", "核查督办", 20),
         ("verify", "核查", "核查督办", 6), ("close", "结案", "综合调度", 4)]


LEVELS = ("normal", "yellow", "red")


def _generate(conn, n: int) -> None:
    """Cases, parties and work items in a few INSERT … SELECT statements (PostgreSQL does the work)."""
    from sqlalchemy import text
    sql = [
        # registered over two years; 7 % still open (the newest mostly); closed after an exponential
        # number of days by tier (simple hours, general ~3 days, complex ~8, difficult ~20)
        """
        CREATE TEMP TABLE g AS
        SELECT i, now() AT TIME ZONE 'utc' - (power(random(), 1.3) * interval '730 days') AS registered_at,
               (ARRAY['simple', 'general', 'general', 'general', 'complex', 'complex', 'difficult'])
                   [1 + floor(random() * 7)::int] AS tier,
               random() AS r1, random() AS r2, random() AS r3, random() AS r4
        FROM generate_series(1, :n) AS i
        """,
        # the place is a village (and its township); 55 % are resolved by the village, 25 % by the
        # township, the rest by a stationed department
        """
        INSERT INTO mediation_case (code, title, dispute_type_id, township_id, village_id, place_kind, facts,
            requests, amount, people_count, source_channel, route, status, complexity, risk_level,
            resolution_mode, assigned_unit_id, due_at, verify_failures, closing_type, handling_result, fulfilment,
            satisfaction, registered_by_id, registered_at, process_version_id, wf_state, updated_at, lock_version)
        SELECT 'MB' || lpad(g.i::text, 10, '0'), '批量纠纷' || g.i,
               a.types[1 + floor(g.r2 * array_length(a.types, 1))::int], v.parent_id, v.id, 'residence',
               '事实', '请求', round((g.r4 * 50000)::numeric, 2), 2 + floor(g.r3 * 3)::int,
               (ARRAY['walk_in', 'walk_in', 'walk_in', 'phone', 'grid', 'petition', 'court', 'police', 'online'])
                   [1 + floor(g.r2 * 9)::int],
               'mediation',
               CASE WHEN g.registered_at > now() AT TIME ZONE 'utc' - interval '20 days' AND g.r1 < 0.8
                         OR g.r1 < 0.02 THEN 'handling' ELSE 'closed' END,
               g.tier, CASE WHEN g.r3 < 0.05 THEN 'high' WHEN g.r3 < 0.25 THEN 'medium' ELSE 'low' END,
               CASE WHEN g.r4 < 0.55 THEN 'at_home' WHEN g.r4 < 0.8 THEN 'on_site' WHEN g.r4 < 0.95 THEN 'in_center'
                    ELSE 'litigation' END,
               CASE WHEN g.r4 < 0.55 THEN v.id WHEN g.r4 < 0.8 THEN v.parent_id
                    ELSE a.departments[1 + floor(g.r1 * array_length(a.departments, 1))::int] END,
               g.registered_at + CASE g.tier WHEN 'simple' THEN 1 WHEN 'general' THEN 3 WHEN 'complex' THEN 10
                                             ELSE 30 END * interval '1 day',
               CASE WHEN g.r2 < 0.03 THEN 1 ELSE 0 END,
               CASE WHEN g.r1 < 0.99 THEN 'mediated' ELSE 'terminated' END,
               CASE WHEN g.r1 < 0.99 THEN 'written_agreement' ELSE 'terminated' END,
               'fulfilled',
               (ARRAY['satisfied', 'satisfied', 'satisfied', 'satisfied', 'basically', 'dissatisfied'])
                   [1 + floor(g.r3 * 6)::int],
               1, g.registered_at, a.version, '{}', g.registered_at, 1
        FROM g
        CROSS JOIN (SELECT (SELECT array_agg(id ORDER BY id) FROM dispute_type WHERE parent_id IS NOT NULL) AS types,
                           (SELECT array_agg(id ORDER BY id) FROM org_unit WHERE kind = 'village') AS villages,
                           (SELECT array_agg(id ORDER BY id) FROM org_unit WHERE kind = 'department') AS departments,
                           (SELECT id FROM process_version WHERE process_id = 'mediation_chain'
                            AND status = 'published' ORDER BY version DESC LIMIT 1) AS version) a
        JOIN org_unit v ON v.id = a.villages[1 + floor(g.r3 * array_length(a.villages, 1))::int]
        """,
        # closed after a number of days that follows the tier (an exponential around its mean)
        """
        UPDATE mediation_case SET closed_at = registered_at + (-ln(1 - random() * 0.999)) *
               (CASE complexity WHEN 'simple' THEN 0.3 WHEN 'general' THEN 2 WHEN 'complex' THEN 5 ELSE 14 END)
               * interval '1 day' + interval '2 hours'
        WHERE status = 'closed'
        """,
        "UPDATE mediation_case SET closed_at = LEAST(closed_at, now() AT TIME ZONE 'utc') WHERE status = 'closed'",
        # two parties each; one applicant in twenty is someone who came before (a repeat petitioner)
        """
        INSERT INTO party (case_id, kind, seq, name, id_number)
        SELECT c.id, k.kind, k.seq, '当事人' || c.id || k.seq,
               CASE WHEN k.seq = 0 AND c.id % 20 = 0 THEN 'R' || lpad((c.id % 997)::text, 17, '0')
                    ELSE 'P' || lpad((c.id * 2 + k.seq)::text, 17, '0') END
        FROM mediation_case c CROSS JOIN (VALUES ('applicant', 0), ('respondent', 1)) AS k(kind, seq)
        """,
    ]
    sql.append("""
        UPDATE mediation_case c SET previous_visit_at = x.prev
        FROM (SELECT case_id, lag(registered_at) OVER (PARTITION BY id_number ORDER BY registered_at, case_id) AS prev
              FROM (SELECT p.case_id, p.id_number, m.registered_at FROM party p
                    JOIN mediation_case m ON m.id = p.case_id
                    WHERE p.kind = 'applicant' AND p.id_number IS NOT NULL) a) x
        WHERE x.case_id = c.id AND x.prev IS NOT NULL
    """)  # what registration keeps: each case's previous visit by the same applicant
    for statement in sql:
        conn.execute(text(statement), {"n": n})
    # the steps each case went through: done ones up to where it stands, the open one where it waits
    for index, (bpmn_id, name, lane, hours) in enumerate(STEPS):
        conn.execute(text("""
            INSERT INTO work_item (case_id, task_id, bpmn_id, name, lane, form_key, kind, org_unit_id, status,
                                   created_at, due_at, completed_at, completed_by_id, notified)
            SELECT c.id, md5(c.id::text || :bpmn_id), :bpmn_id, :name, :lane, :bpmn_id, 'task',
                   c.assigned_unit_id,
                   CASE WHEN c.status = 'closed' OR (c.id % 8) > :index THEN 'done' ELSE 'open' END,
                   c.registered_at + :index * (c.closed_at - c.registered_at) / 8,
                   c.due_at,
                   CASE WHEN c.status = 'closed' OR (c.id % 8) > :index
                        THEN c.registered_at + (:index + 1) * (c.closed_at - c.registered_at) / 8 END,
                   CASE WHEN c.status = 'closed' OR (c.id % 8) > :index THEN 1 END, true
            FROM (SELECT id, status, assigned_unit_id, registered_at, due_at,
                         COALESCE(closed_at, registered_at + :hours * 8 * interval '1 hour') AS closed_at
                  FROM mediation_case) c
            WHERE c.status = 'closed' OR (c.id % 8) >= :index
            """), {"bpmn_id": bpmn_id, "name": name, "lane": lane, "index": index, "hours": hours})
    # one case in 25 got a supervision card (its card is a work item of the unit's leader)
    conn.execute(text("""
        INSERT INTO work_item (case_id, task_id, bpmn_id, name, lane, form_key, kind, org_unit_id, status,
                               created_at, completed_at, notified)
        SELECT id, md5(id::text || 'card'), 'supervision_card', '督办卡', '单位负责人', 'supervision_card', 'card',
               assigned_unit_id, 'done', due_at, due_at + interval '1 day', true
        FROM mediation_case WHERE id % 25 = 0
    """))
    conn.execute(text("""
        INSERT INTO supervision_card (case_id, level, reason, raised_at, deadline_at, work_item_id)
        SELECT w.case_id, (ARRAY[:l1, :l2, :l3])[1 + w.case_id % 3], '超期督办', w.created_at, w.created_at, w.id
        FROM work_item w WHERE w.kind = 'card' AND w.bpmn_id = 'supervision_card'
    """), {"l1": LEVELS[0], "l2": LEVELS[1], "l3": LEVELS[2]})


def _take_day_sums(db) -> None:
    """The worker's round over the generated county, all but the last ``TAIL_HOURS`` of changes."""
    from datetime import timedelta

    from sqlalchemy import func, select, text

    from portal.clock import utcnow
    from portal.models import Case, WorkItem
    from portal.services.rollups import refresh_rollups
    until = utcnow() - timedelta(hours=TAIL_HOURS)
    t0 = time.perf_counter()
    cases, steps = refresh_rollups(until=until, steps=None)
    print(f"took the day sums in {time.perf_counter() - t0:.0f} s ({cases} cases, {steps} steps)")
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    tail = db.session.scalar(select(func.count()).select_from(Case).where(Case.updated_at >= until))
    steps = db.session.scalar(select(func.count()).select_from(WorkItem).where(WorkItem.dwell_bucket.is_(None),
                                                                                WorkItem.completed_at >= until))
    print(f"left to the requests: {tail} cases changed and {steps} steps done in the last {TAIL_HOURS:g} h")


def main() -> None:
    url = os.environ.get("PORTAL_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("bench/dashboard.py needs PORTAL_DATABASE_URL pointing at a PostgreSQL database it may rebuild")
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, func, select, text

    from portal import create_app
    from portal.demo import county
    from portal.demo.seed import DEMO_PASSWORD, DEMO_USERS
    from portal.extensions import db
    from portal.models import Case, RollupMark
    from portal.services.accounts import create_user
    from portal.services.reference import load_county
    from portal.services.setup import initialise_portal

    reuse = os.environ.get("BENCH_REUSE") == "1"  # measure again on the cases generated last time
    if not reuse:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade()
        if not reuse:
            initialise_portal()
            load_county(county.TOWNSHIPS, county.DEPARTMENTS, county.INDUSTRY_COMMITTEES, county.STUDIOS)
            for username, full_name, roles, org in DEMO_USERS:
                create_user(username, full_name, roles, org, DEMO_PASSWORD)
            t0 = time.perf_counter()
            with db.engine.begin() as conn:
                _generate(conn, CASES)
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
            print(f"generated the cases in {time.perf_counter() - t0:.0f} s")
        if db.session.get(RollupMark, "cases") is None:
            _take_day_sums(db)
        cases = db.session.scalar(select(func.count(Case.id)))

    client = app.test_client()
    resp = client.post("/login/", data={"username": "director", "password": DEMO_PASSWORD})
    assert resp.status_code == 302, "login failed"
    timings = {}
    for name, url_path in (("dashboard", "/dashboard/"), ("heatmap", "/dashboard/heatmap/")):
        samples = []
        for _ in range(RUNS + 1):
            t = time.perf_counter()
            page = client.get(url_path)
            samples.append((time.perf_counter() - t) * 1000)
            assert page.status_code == 200, (url_path, page.status_code)
        timings[name] = statistics.median(samples[1:])  # the first request warms the caches
        print(f"{name}: " + " ".join(f"{s:.0f}" for s in samples) + " ms")
    print(f"dashboard_ms={timings['dashboard']:.0f} heatmap_ms={timings['heatmap']:.0f} cases={cases}")


if __name__ == "__main__":
    main()
