"""Benchmark: 100 staff of mixed roles on two app servers sharing one PostgreSQL database of 100,000 cases.

Builds the database (``bench/bulk.py``: 100,000 demo-shaped cases from engine-produced states) in the
PostgreSQL database ``--database-url`` (its ``public`` schema is dropped first; ``--reuse`` keeps a database
built by an earlier run), adds the staff accounts, then starts two gunicorn app servers on free loopback
ports, each with its ``flask portal worker``, and the simulated users (``bench/load_users.py``, locust in
one gevent process): window clerks registering cases, dispatchers triaging and dispatching, a department's
handlers, verifiers, directors on the dashboard, township staff on their cases. After a warm-up (logins,
caches) it measures ``--duration`` seconds, stops everything and runs ``flask portal check``.

Each app server runs ``--workers`` gunicorn processes of ``--threads`` threads (gthread), by default 2 x 2:
on two cores, two servers of two processes give each core a process of each server, and a second thread
lets a process answer another request while one waits for PostgreSQL. More threads only contend for the
interpreter's lock, more processes for the same two cores (measured on the shared machine, 40 s each,
server and database CPU per request: 2 x 1 54 ms, 2 x 2 60 ms, 2 x 4 63 ms, 1 x 4 58 ms -- within the noise
of the machine, with 2 x 4 the dearest).

Users think ``--think`` seconds on average between two actions (1 s: a busy office); an action is one to
three requests (a step: its page, the POST, the case page it leads to).

Last line:
  load_rps=<requests per second> p95_ms=<95th percentile> errors=<failed requests> invariants=<ok|failed>
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import bench.bulk as bulk  # noqa: E402
from bench.servers import OUT, check, cpu_seconds, database_cpu, start_servers, stop  # noqa: E402

PASSWORD = "bench-pass-1"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/loadbench"
# role in bench/load_users.py -> (how many users, portal role, unit code)
MIX = {"clerk": (25, "intake_clerk", "CENTER"), "dispatcher": (25, "dispatcher", "CENTER"),
       "handler": (20, "dept_handler", "D03"), "verifier": (15, "verifier", "CENTER"),
       "director": (10, "director", "CENTER"), "township": (5, "township_staff", "T01")}
STEPS = ("triage", "dispatch", "feedback", "verify", "close")


def prepare(url: str, cases: int, reuse: bool) -> None:
    """The database of ``cases`` cases (kept when ``reuse`` finds one), the staff accounts, fresh statistics."""
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    with engine.connect() as conn:
        built = conn.execute(text("SELECT to_regclass('public.mediation_case') IS NOT NULL")).scalar() and \
            conn.execute(text("SELECT count(*) FROM mediation_case")).scalar()
    engine.dispose()
    if reuse and built:
        print(f"reusing the database: {built} cases")
    else:
        t0 = time.perf_counter()
        bulk.reset_schema(url)
        bulk.build(url, cases, PASSWORD)
        print(f"built {cases} cases in {time.perf_counter() - t0:.0f} s")
        _settle(url)
    _staff(url)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def _settle(url: str) -> None:
    """Bring the figures' day sums up to date, as the worker of a running portal keeps them: its first
    round over a new database counts every case, which is not what a county's day looks like."""
    from portal import create_app
    from portal.services.rollups import refresh_rollups
    t0 = time.perf_counter()
    with create_app({"SQLALCHEMY_DATABASE_URI": url}).app_context():
        cases, steps = refresh_rollups(steps=None)
    print(f"took the day sums of {cases} cases and {steps} steps in {time.perf_counter() - t0:.0f} s")


def accounts(role: str) -> list[str]:
    return [f"load_{role}_{i:02d}" for i in range(1, MIX[role][0] + 1)]


def _staff(url: str) -> None:
    """The schema brought up to date (a reused database may be older), and one account per simulated user
    (made once; a reused database has them)."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from portal import create_app
    from portal.extensions import db
    from portal.models import PortalUser
    from portal.services.accounts import create_user
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        known = set(db.session.scalars(select(PortalUser.username)))
        for role, (_n, portal_role, unit) in MIX.items():
            for name in accounts(role):
                if name not in known:
                    create_user(name, name, [portal_role], unit, PASSWORD)


def pools(url: str, servers: list[str]) -> dict:
    """What the users need: the servers, their accounts, the open steps each may take, cases to open."""
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    with engine.connect() as conn:
        def ids(sql: str, **params) -> list[int]:
            found = [r[0] for r in conn.execute(text(sql), params)]
            random.shuffle(found)
            return found

        def unit(code: str) -> int:
            return conn.execute(text("SELECT id FROM org_unit WHERE code = :c"), {"c": code}).scalar()
        steps = {step: ids("SELECT id FROM work_item WHERE status = 'open' AND form_key = :k AND claimed_by_id IS NULL "
                           "ORDER BY random() LIMIT 4000", k=step) for step in STEPS}
        every = ids("SELECT id FROM mediation_case ORDER BY random() LIMIT 5000")
        d03 = ids("SELECT id FROM mediation_case WHERE assigned_unit_id = :u ORDER BY random() LIMIT 5000",
                  u=unit("D03"))
        t01 = ids("SELECT id FROM mediation_case WHERE township_id = :u ORDER BY random() LIMIT 5000", u=unit("T01"))
        dispute_type = conn.execute(text("SELECT id FROM dispute_type WHERE code = '0301'")).scalar()
        intake = {"applicants-0-id_number": "11010519491231002X", "applicants-0-phone": "13800138000",
                  "applicants-0-address": "二组12号", "respondents-0-id_number": "", "respondents-0-phone": "",
                  "respondents-0-address": "", "dispute_type_id": dispute_type, "township_id": unit("T01"),
                  "village_id": unit("T01V02"), "place_kind": "residence", "place_detail": "二组",
                  "facts": "两家因宅基地边界争执。", "requests": "请求确定边界。", "amount": "5000",
                  "people_count": "2", "source_channel": "walk_in", "route": "mediation"}
        result = {"servers": servers, "password": PASSWORD, "steps": steps, "unit": unit("D03"), "intake": intake,
                  "mix": {role: n for role, (n, _r, _u) in MIX.items()},
                  "accounts": {role: accounts(role) for role in MIX},
                  "cases": {"clerk": every, "dispatcher": every, "verifier": every, "director": every,
                            "handler": d03, "township": t01}}
    engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("PORTAL_LOAD_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true", help="keep the cases of an earlier run's database")
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes per app server")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn process")
    parser.add_argument("--warmup", type=float, default=20, help="seconds of load, after every login, before measuring")
    parser.add_argument("--duration", type=float, default=60, help="seconds measured")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between a user's actions")
    args = parser.parse_args()
    url = args.database_url
    if not url.startswith("postgresql"):
        sys.exit("bench/load.py needs a PostgreSQL database it may rebuild (--database-url)")
    prepare(url, args.cases, args.reuse)
    servers = start_servers(url, args.servers, args.workers, args.threads)
    try:
        pool_file = OUT / "load-pools.json"
        pool_file.write_text(json.dumps(pools(url, [s.base for s in servers])))
        server_pids = [p.pid for s in servers for p in s.processes]
        worker_pids = [s.worker.pid for s in servers]
        users = subprocess.Popen([sys.executable, str(ROOT / "bench" / "load_users.py"), str(pool_file),
                                  "--warmup", str(args.warmup), "--duration", str(args.duration),
                                  "--think", str(args.think)], cwd=ROOT, stdout=subprocess.PIPE,
                                 stderr=open(OUT / "load-users.log", "w"), text=True)
        line = users.stdout.readline()  # "measuring": the warm-up is over
        before = (cpu_seconds(server_pids), database_cpu(url), cpu_seconds(worker_pids))
        out, _ = users.communicate(timeout=args.warmup + args.duration + 720)  # logins: at most 600 s
        after = (cpu_seconds(server_pids), database_cpu(url), cpu_seconds(worker_pids))
    finally:
        stop(servers)
    if users.returncode or line.strip() != "measuring":
        sys.exit(f"the simulated users failed: see {OUT}/load-users.log")
    result = json.loads(out.strip().splitlines()[-1])
    print(f"{result['users']} users, {args.servers} servers x {args.workers} processes x {args.threads} threads, "
          f"{result['seconds']:.0f} s measured after {args.warmup:.0f} s of warm-up")
    print(f"{'request':32} {'count':>7} {'fail':>5} {'median':>7} {'p95':>7} {'max':>7}  (ms)")
    for row in (r for r in result["rows"] if r["requests"]):  # the logins were before the measured time
        print(f"{row['name'][:32]:32} {row['requests']:7} {row['failures']:5} {row['median_ms']:7.0f} "
              f"{row['p95_ms']:7.0f} {row['max_ms']:7}")
    for error in result["errors"]:
        print(f"error x{error['count']}: {error['name']}: {error['error'][:200]}")
    seconds = result["seconds"]
    database = sum(cpu - before[1].get(pid, 0.0) for pid, cpu in after[1].items())
    print(f"CPU over the measured time (cores, of {os.cpu_count()}): app servers and their workers "
          f"{(after[0] - before[0]) / seconds:.2f} (the workers {(after[2] - before[2]) / seconds:.2f}), "
          f"PostgreSQL {database / seconds:.2f}, "
          f"simulated users {result['cpu_seconds'] / seconds:.2f}; per request "
          f"{(after[0] - before[0] + database) / max(result['requests'], 1) * 1000:.1f} ms of server and database CPU")
    print(f"open steps left in the pools: {result['left']}")
    t0 = time.perf_counter()
    holds, summary = check(url)
    print(f"flask portal check ({time.perf_counter() - t0:.0f} s): {summary}")
    print(f"load_rps={result['rps']:.1f} p95_ms={result['p95_ms']:.0f} errors={result['failures']} "
          f"invariants={'ok' if holds else 'failed'}")


if __name__ == "__main__":
    main()
