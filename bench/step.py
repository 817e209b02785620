"""Benchmark: one step of a case, raw engine vs. the full HTTP POST, on a 100,000-case database.

Builds a database (SQLite under bench/out/ by default, or PORTAL_DATABASE_URL)
with 100,000 demo-shaped cases (``bench/bulk.py``: a few template cases are
driven through the real services to every step, then their engine-produced
states are copied in bulk, each copy with its own task ids). Then it measures

  (a) engine: load the case's state row -> restore -> complete the triage task
              -> dump -> save the row -> commit, through the facade, no portal;
  (b) http:   the POST that completes a triage step through the portal
              (gunicorn, one worker, logged-in dispatcher, CSRF on),

each over different cases, in turn (ten steps of (a), then ten of (b), ...), so that both see the
machine as it is at that moment, and prints medians ((a) puts each state back afterwards, untimed, so
``--reuse`` measures again on the same database). Last line:
  step_ratio=<b/a> http_ms=<b median> engine_ms=<a median>
"""
from __future__ import annotations

import argparse
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
from bench.servers import cpu_seconds, free_port  # noqa: E402

OUT = ROOT / "bench" / "out"


def migrate(url: str) -> None:
    from flask_migrate import upgrade

    from portal import create_app
    with create_app({"SQLALCHEMY_DATABASE_URI": url}).app_context():
        upgrade()


class EngineStep:
    """(a) the raw engine step on the same database: load the state row, restore, complete, dump,
    write the state row back and commit -- no portal around it -- on open triage steps taken from the
    newest cases (the portal's POSTs take the oldest)."""

    def __init__(self, url: str, rounds: int) -> None:
        from sqlalchemy import create_engine, text

        from portal.bpmn import Engine
        self.text = text
        self.db = create_engine(url)
        self.engine = Engine()
        self.conn = self.db.connect()
        if self.db.dialect.name == "sqlite":  # the same journal settings the portal runs with
            self.conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            self.conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
        self.specs = dict(self.conn.execute(text("SELECT id, spec_json FROM process_version")).all())
        self.steps = self.conn.execute(text(
            "SELECT w.case_id, w.task_id FROM work_item w WHERE w.status = 'open' AND w.bpmn_id = 'triage' "
            "ORDER BY w.case_id DESC LIMIT :n"), {"n": rounds + 1}).all()
        self.conn.commit()

    def run(self, i: int) -> tuple[float, float]:
        """Step ``i``: (total ms, of which in memory ms)."""
        text, conn = self.text, self.conn
        case_id, task_id = self.steps[i]
        data = {"complexity": "general", "risk_level": "low", "resolution_mode": "at_home"}
        t0 = time.perf_counter()
        state, version_id = conn.execute(text(
            "SELECT wf_state, process_version_id FROM mediation_case WHERE id = :id"), {"id": case_id}).one()
        t1 = time.perf_counter()
        wf = self.engine.restore(state, self.specs[version_id])
        self.engine.complete(wf, task_id, data)
        new_state = self.engine.dump(wf)
        t2 = time.perf_counter()
        conn.execute(text("UPDATE mediation_case SET wf_state = :s WHERE id = :id"), {"s": new_state, "id": case_id})
        conn.commit()
        t3 = time.perf_counter()
        # Put the state back (not timed): the case's work items still say triage is open, and a
        # later run on the same database (--reuse) completes the same cases again.
        conn.execute(text("UPDATE mediation_case SET wf_state = :s WHERE id = :id"), {"s": state, "id": case_id})
        conn.commit()
        return (t3 - t0) * 1000, (t2 - t1) * 1000

    def close(self) -> None:
        self.conn.close()
        self.db.dispose()


class PortalStep:
    """(b) the POST that completes a triage step through the portal: gunicorn (one worker), the
    dispatcher logged in, CSRF on; each request on a fresh connection, as a browser's POST is."""

    def __init__(self, url: str, rounds: int) -> None:
        from sqlalchemy import create_engine, text
        self.port = port = free_port()
        env = {**os.environ, "PORTAL_DATABASE_URL": url, "PORTAL_SECRET_KEY": "bench"}
        self.server = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}", "portal:create_app()"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(OUT / "gunicorn.log", "w"))
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        self.cookies: dict[str, str] = {}
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', self.call("/login/")[1]).group(1)
        status, _ = self.call("/login/", {"username": "dispatch", "password": "bench-pass-1", "csrf_token": token})
        assert status == 302, status
        eng = create_engine(url)
        with eng.connect() as conn:
            self.items = [r[0] for r in conn.execute(text(
                "SELECT id FROM work_item WHERE status='open' AND bpmn_id='triage' ORDER BY id LIMIT :n"),
                {"n": rounds + 20})]
        eng.dispose()
        status, html = self.call(f"/cases/task/{self.items[0]}")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        self.form = {"csrf_token": token, "complexity": "general", "risk_level": "low",
                     "resolution_mode": "at_home", "opinion": "bench"}

    def call(self, path, data=None):
        """One request on a fresh connection (``Connection: close``, read to the end); returns (status,
        body or redirect target). Written on the socket: with ``http.client`` the client's own processor time
        was 0.51 ms per POST, and 0.37 ms so (most of it the kernel's work on the connection)."""
        headers = [f"Host: 127.0.0.1:{self.port}", "Connection: close"]
        if self.cookies:
            headers.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        body = b""
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        request = ("POST" if data is not None else "GET") + f" {path} HTTP/1.1\r\n" + "\r\n".join(headers)
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            sock.sendall(request.encode() + b"\r\n\r\n" + body)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        head, _, content = b"".join(chunks).partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        location = None
        for line in lines:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                cookie, _, _ = value.partition(";")
                key, _, val = cookie.partition("=")
                self.cookies[key] = val
            elif name == "location":
                location = value
        return status, (location if status == 302 else content.decode())

    def run(self, i: int) -> float:
        """Step ``i`` (ms); the redirect it answers with is followed afterwards, as a browser does (not timed)."""
        t0 = time.perf_counter()
        status, body = self.call(f"/cases/task/{self.items[i]}", self.form)
        elapsed = (time.perf_counter() - t0) * 1000
        assert status == 302, (status, body[:500])
        self.call(urllib.parse.urlsplit(body).path)
        return elapsed

    def close(self) -> None:
        self.server.terminate()
        self.server.wait(10)


BLOCK = 10


class MachineShare:
    """What the rest of the machine did while the benchmark measured: the processor time of every other
    process (on PostgreSQL, the database's among them), and the time the host took from this machine's
    processors (steal), each as a share of all its processors. Both sides are measured on a shared host;
    a run whose ratio stands out can be told from the others by these figures."""

    def __init__(self) -> None:
        self.start = time.monotonic(), *self._machine(), cpu_seconds([os.getpid()])  # with the server it started

    @staticmethod
    def _machine() -> tuple[float, float]:
        """(busy, steal) seconds of all processors since boot (/proc/stat)."""
        with open("/proc/stat") as stat:
            user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, stat.readline().split()[1:9])
        tick = os.sysconf("SC_CLK_TCK")
        return (user + nice + system + irq + softirq) / tick, steal / tick

    def report(self) -> str:
        started, busy, steal, own = self.start
        now_busy, now_steal = self._machine()
        capacity = (time.monotonic() - started) * os.cpu_count()
        other = (now_busy - busy - (cpu_seconds([os.getpid()]) - own)) / capacity
        taken = (now_steal - steal) / capacity
        return (f"meanwhile other processes used {max(other, 0):.1%} and the host took {taken:.1%} "
                f"of the machine's {os.cpu_count()} processors")


def measure(url: str, rounds: int) -> tuple[float, float, float, str]:
    """Medians of (a) and (b) taken in turn, ``BLOCK`` steps of one, then ``BLOCK`` of the other: the
    machine's speed drifts (a shared host), and medians taken minutes apart would compare two different
    machines. The first step of each block is not counted: the other side's steps have just written the
    database and taken the processor's caches, which neither side meets when it runs on its own."""
    engine, portal = EngineStep(url, rounds), PortalStep(url, rounds)
    try:
        engine.run(rounds)              # the first round fills the spec cache, as a running portal already has
        for i in range(20):             # the first requests warm the worker
            portal.run(rounds + i)
        machine = MachineShare()
        total, in_memory, http_times = [], [], []
        for start in range(0, rounds, BLOCK):
            block = range(start, min(start + BLOCK, rounds))
            for i in block:
                a, a_memory = engine.run(i)
                if i != start:
                    total.append(a)
                    in_memory.append(a_memory)
            for i in block:
                b = portal.run(i)
                if i != start:
                    http_times.append(b)
        meanwhile = machine.report()
    finally:
        portal.close()
        engine.close()
    return statistics.median(total), statistics.median(in_memory), statistics.median(http_times), meanwhile


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
    engine_ms, memory_ms, http_ms, meanwhile = measure(url, args.rounds)
    print(f"engine (load row, restore, complete, dump, save row, commit): median {engine_ms:.2f} ms "
          f"(of which in memory {memory_ms:.2f} ms) over {args.rounds} cases; http POST: median {http_ms:.2f} ms; "
          f"{meanwhile}")
    print(f"step_ratio={http_ms / engine_ms:.2f} http_ms={http_ms:.2f} engine_ms={engine_ms:.2f}")


if __name__ == "__main__":
    main()
