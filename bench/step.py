"""Benchmark: one step of a case, raw engine vs. the full HTTP POST, on a 100,000-case database.

Builds a database (SQLite under bench/out/ by default, or PORTAL_DATABASE_URL)
with 100,000 demo-shaped cases (``bench/bulk.py``: a few template cases are
driven through the real services to every step, then their engine-produced
states are copied in bulk, each copy with its own task ids). Then it measures

  (a) engine: load the case's state row -> restore -> complete the triage task
              -> dump -> save the row -> commit, through the facade, no portal;
  (b) http:   the POST that completes a triage step through the portal
              (gunicorn, one worker, logged-in dispatcher, CSRF on),

each over different cases, and prints medians ((a) puts each state back afterwards, untimed, so
``--reuse`` measures again on the same database). Last line:
  step_ratio=<b/a> http_ms=<b median> engine_ms=<a median>
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import bench.bulk as bulk  # noqa: E402

OUT = ROOT / "bench" / "out"


def migrate(url: str) -> None:
    from flask_migrate import upgrade

    from portal import create_app
    with create_app({"SQLALCHEMY_DATABASE_URI": url}).app_context():
        upgrade()


def engine_medians(url: str, rounds: int) -> tuple[float, float]:
    """(a) the raw engine step on the same database: load the state row, restore, complete, dump,
    write the state row back and commit -- no portal around it. Also returns the in-memory part alone."""
    from sqlalchemy import create_engine, text

    from portal.bpmn import Engine
    from portal.models import ProcessVersion  # noqa: F401  (only the table name is used)

    db = create_engine(url)
    engine = Engine()
    with db.connect() as conn:
        if db.dialect.name == "sqlite":  # the same journal settings the portal runs with
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
        specs = dict(conn.execute(text("SELECT id, spec_json FROM process_version")).all())
        rows = conn.execute(text(
            "SELECT w.case_id, w.task_id FROM work_item w WHERE w.status = 'open' AND w.bpmn_id = 'triage' "
            "ORDER BY w.case_id DESC LIMIT :n"), {"n": rounds + 1}).all()
        data = {"complexity": "general", "risk_level": "low", "resolution_mode": "at_home"}
        total, in_memory = [], []
        for i, (case_id, task_id) in enumerate(rows):
            t0 = time.perf_counter()
            state, version_id = conn.execute(text(
                "SELECT wf_state, process_version_id FROM mediation_case WHERE id = :id"), {"id": case_id}).one()
            t1 = time.perf_counter()
            wf = engine.restore(state, specs[version_id])
            engine.complete(wf, task_id, data)
            new_state = engine.dump(wf)
            t2 = time.perf_counter()
            conn.execute(text("UPDATE mediation_case SET wf_state = :s WHERE id = :id"),
                         {"s": new_state, "id": case_id})
            conn.commit()
            t3 = time.perf_counter()
            # Put the state back (not timed): the case's work items still say triage is open, and a
            # later run on the same database (--reuse) completes the same cases again.
            conn.execute(text("UPDATE mediation_case SET wf_state = :s WHERE id = :id"), {"s": state, "id": case_id})
            conn.commit()
            if i:  # the first round fills the spec cache, as a running portal already has
                total.append((t3 - t0) * 1000)
                in_memory.append((t2 - t1) * 1000)
    db.dispose()
    return statistics.median(total), statistics.median(in_memory)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_medians(url: str, rounds: int) -> float:
    from sqlalchemy import create_engine, text
    port = _free_port()
    env = {**os.environ, "PORTAL_DATABASE_URL": url, "PORTAL_SECRET_KEY": "bench"}
    server = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}",
                               "portal:create_app()"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=open(OUT / "gunicorn.log", "w"))
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/login/", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        cookies: dict[str, str] = {}

        def call(path, data=None):
            """One request on a fresh connection, as a browser's POST is; returns (status, body)."""
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
            body = None
            if data is not None:
                body = urllib.parse.urlencode(data)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request("POST" if data is not None else "GET", path, body, headers)
            resp = conn.getresponse()
            text_ = resp.read().decode()
            for header in resp.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                cookies[name] = rest.split(";", 1)[0]
            conn.close()
            location = resp.getheader("Location")
            return resp.status, (location if resp.status == 302 else text_)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', call("/login/")[1]).group(1)
        status, _ = call("/login/", {"username": "dispatch", "password": "bench-pass-1", "csrf_token": token})
        assert status == 302, status
        eng = create_engine(url)
        with eng.connect() as conn:
            items = [r[0] for r in conn.execute(text(
                "SELECT id FROM work_item WHERE status='open' AND bpmn_id='triage' ORDER BY id LIMIT :n"),
                {"n": rounds + 20})]
        eng.dispose()
        status, html = call(f"/cases/task/{items[0]}")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        form = {"csrf_token": token, "complexity": "general", "risk_level": "low", "resolution_mode": "at_home",
                "opinion": "bench"}
        times = []
        for i, item_id in enumerate(items):
            t0 = time.perf_counter()
            status, body = call(f"/cases/task/{item_id}", form)
            elapsed = (time.perf_counter() - t0) * 1000
            assert status == 302, (status, body[:500])
            call(urllib.parse.urlsplit(body).path)  # follow the redirect, as a browser does (not timed)
            if i >= 20:  # the first requests warm the worker
                times.append(elapsed)
        return statistics.median(times)
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--reuse", action="store_true",
                        help="reuse bench/out/step.db if present (migrated to the code's schema)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("PORTAL_DATABASE_URL")
    db_file = OUT / "step.db"
    if url is None:
        url = f"sqlite:///{db_file}"
        if not (args.reuse and db_file.exists()):
            db_file.unlink(missing_ok=True)
            t0 = time.perf_counter()
            bulk.build(url, args.cases, "bench-pass-1")
            print(f"built {args.cases} cases in {time.perf_counter() - t0:.1f}s ({db_file.stat().st_size >> 20} MiB)")
        else:
            migrate(url)  # the code measured may have migrations the kept database lacks
    else:
        bulk.build(url, args.cases, "bench-pass-1")
    shutil.rmtree(OUT / "cache", ignore_errors=True)
    engine_ms, memory_ms = engine_medians(url, args.rounds)
    http_ms = http_medians(url, args.rounds)
    print(f"engine (load row, restore, complete, dump, save row, commit): median {engine_ms:.2f} ms "
          f"(of which in memory {memory_ms:.2f} ms) over {args.rounds} cases; http POST: median {http_ms:.2f} ms")
    print(f"step_ratio={http_ms / engine_ms:.2f} http_ms={http_ms:.2f} engine_ms={engine_ms:.2f}")


if __name__ == "__main__":
    main()
