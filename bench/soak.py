"""Benchmark: a soak of the REST API -- cases driven through random valid paths on two app servers.

On the PostgreSQL database ``--database-url`` (its ``public`` schema is dropped and rebuilt with the test
county) it makes API clients for the systems that work a case (the hotline files it; the center's
dispatch, verification and director systems; the justice bureau's and the court's platforms), starts two
app servers (each with its ``flask portal worker``), and drives ``--cases`` cases through ``/api/v1`` with
``--concurrency`` drivers, each request to a server picked at random: register (with an Idempotency-Key),
read the case, read a step's form, complete the step, until the case is closed. The paths are random
and valid: matters for another lawful channel referred there; triage choosing mediation in the center,
online or the court's pre-filing mediation; dispatch escalating to the county or asking other units for
their opinion; units objecting (back to triage); verification failing (back to the unit); feedback,
visits and closings of every kind; the supervision cards the workers raise meanwhile answered by the units'
leaders' systems. Handling reports the matter sent to its lawful channel: an agreement or a termination
rests on recorded mediation sessions, which the API does not take. Every request must answer as the path
expects; one that does not is an error, and its case is left where it stands.

Each app server's memory (gunicorn's master and workers: the sum of their resident set sizes, and of their
proportional set sizes) is sampled every ``--sample`` seconds; the growth over the second half of the run is
the least-squares slope of the resident sizes there. No case is started after ``--max-minutes``. At the end
``flask portal check`` must hold. Last line:
  soak_cases=<n> rss_max_mb=<largest server> rss_growth_second_half_mb=<fitted growth over the second
  half, largest of the servers> invariants=<ok|failed> errors=<requests answered otherwise> cases_per_min=<n>
"""
from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import statistics
import sys
import threading
import time
import urllib.parse
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import bench.bulk as bulk  # noqa: E402
from bench.servers import check, cpu_seconds, database_cpu, memory_mb, start_servers, stop  # noqa: E402

PASSWORD = "bench-pass-1"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/soakbench"
EVERY = ["cases:create", "cases:read", "tasks:complete", "documents:read"]
# API client -> (role, unit code)
CLIENTS = {"hotline": ("intake_clerk", "CENTER"), "dispatch": ("dispatcher", "CENTER"),
           "verify": ("verifier", "CENTER"), "director": ("director", "CENTER"),
           "D03": ("dept_handler", "D03"), "D04": ("dept_handler", "D04"),
           "D03-lead": ("unit_leader", "D03"), "D04-lead": ("unit_leader", "D04"),
           "CENTER-lead": ("unit_leader", "CENTER")}  # a card before a unit holds the case goes to the center
# Whose system completes each step (a unit's step: the unit's own).
STEP_CLIENT = {"triage": "dispatch", "dispatch": "dispatch", "close": "dispatch", "refer": "dispatch",
               "refer_followup": "dispatch", "escalate": "director", "supervise_accept": "director",
               "followup": "verify", "verify": "verify"}
ROUTES = ["mediation"] * 9 + ["litigation", "labour_arbitration", "petition"]
KEEP_ALIVE = 0.5  # seconds a connection is reused after its last answer
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华"


class PathError(Exception):
    """A request answered otherwise than the path expected."""


def prepare(url: str) -> dict[str, str]:
    """A fresh database with the test county and the API clients; their tokens."""
    from flask_migrate import upgrade

    from portal import create_app
    from portal.services.api_clients import ApiClientData, create_api_client
    from tests.conftest import build_test_county, unit_id, user
    bulk.reset_schema(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    tokens = {}
    with app.app_context():
        upgrade()
        build_test_county(PASSWORD)
        for name, (role, unit) in CLIENTS.items():
            _client, tokens[name] = create_api_client(user("admin"), ApiClientData(
                f"soak-{name}", role, unit_id(unit), None, EVERY))
    return tokens


def person(rng: random.Random) -> dict:
    from portal.idcard import check_digit
    born = f"{rng.randint(1940, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first17 = f"110105{born}{rng.randint(0, 999):03d}"
    return {"name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
            "id_number": first17 + check_digit(first17), "phone": f"138{rng.randint(0, 10**8 - 1):08d}"}


class Api:
    """One driver's connections (kept alive) to every server, with the clients' tokens."""

    def __init__(self, bases: list[str], tokens: dict[str, str], stats: Stats) -> None:
        self.hosts = [urllib.parse.urlsplit(b).netloc for b in bases]
        self.connections: dict[str, tuple[http.client.HTTPConnection, float]] = {}
        self.tokens, self.stats = tokens, stats

    def call(self, client: str, method: str, path: str, body: dict | None = None, expect: int = 200,
             headers: dict | None = None) -> dict:
        host = random.choice(self.hosts)
        payload = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self.tokens[client]}", "Content-Type": "application/json",
                   **(headers or {})}
        t0 = time.perf_counter()
        conn, used = self.connections.pop(host, (None, 0.0))
        if conn is not None and t0 - used > KEEP_ALIVE:  # gunicorn has closed it by now (its keep-alive: 2 s)
            conn.close()
            conn = None
        for attempt in (1, 2):
            reused, conn = conn is not None, conn or http.client.HTTPConnection(host, timeout=60)
            try:
                conn.request(method, "/api/v1" + path, payload, headers)
                resp = conn.getresponse()
                data = resp.read()
                break
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = None
                # a kept-alive connection the server closed just then: a reading is asked again, once
                if attempt == 2 or not reused or method != "GET":
                    self.stats.request(method, path, 0, t0)
                    raise PathError(f"{method} {path}: {type(exc).__name__} {exc}") from None
        self.connections[host] = (conn, time.perf_counter())
        self.stats.request(method, path, resp.status, t0)
        if resp.status != expect:
            raise PathError(f"{method} {path} as {client}: {resp.status} {data[:300].decode(errors='replace')}")
        return json.loads(data)


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self.closed = self.open = self.requests = 0
        self.paths: dict[str, int] = {}

    def request(self, method: str, path: str, status: int, t0: float) -> None:
        name = method + " " + ("/cases" if path == "/cases" else "/cases/{code}" if path.startswith("/cases/")
                               else "/tasks/{id}/complete" if path.endswith("/complete") else "/tasks/{id}")
        with self.lock:
            self.requests += 1
            self.latencies.setdefault(name, []).append((time.perf_counter() - t0) * 1000)

    def case_done(self, closed: bool, path: list[str]) -> None:
        with self.lock:
            if closed:
                self.closed += 1
            else:
                self.open += 1
            for step in set(path):
                self.paths[step] = self.paths.get(step, 0) + 1


def new_case(rng: random.Random) -> dict:
    town, village = rng.choice([("T01", "T01V02"), ("T01", "T01V01"), ("T02", None)])
    applicant, respondent = person(rng), person(rng)
    body = {"title": f"{applicant['name']}与{respondent['name']}{rng.choice(['宅基地', '噪音', '劳资', '邻里'])}纠纷",
            "dispute_type_code": rng.choice(["0301", "0101", "0201"]), "township_code": town,
            "place_kind": "residence", "place_detail": "二组", "facts": "双方多次协商未果。",
            "requests": "请求调解。", "amount": rng.choice([0, 3000, 52000]), "people_count": rng.randint(2, 6),
            "source_channel": "hotline", "route": rng.choice(ROUTES),
            "applicants": [{**applicant, "address": "二组12号"}], "respondents": [respondent]}
    if village:
        body["village_code"] = village
    return body


def form_for(step: str, case: dict, rng: random.Random, fields: list[dict] | None) -> dict:
    """A valid, randomly chosen answer to a step (``fields``: the step's form as GET /tasks/{id} gave it)."""
    today = date.today().isoformat()
    forms = {
        "refer": lambda: {"receiving_body": "县人民法院立案庭", "notice": "已告知当事人携带材料前往立案。"},
        "refer_followup": lambda: {"outcome": rng.choice(["accepted", "refused", "answered"]),
                                   "note": "已了解办理情况。"},
        "triage": lambda: {"complexity": rng.choice(["simple", "general", "complex"]),
                           "risk_level": rng.choice(["low", "low", "medium"]),
                           "resolution_mode": rng.choice(["in_center"] * 6 + ["online"] * 2 + ["litigation"] * 2),
                           "opinion": "事实基本清楚。"},
        "escalate": lambda: {"county_leader": "县委政法委副书记", "opinion": "由县司法局牵头，限期化解。"},
        "consult": lambda: {"opinion": "同意牵头单位意见，可派员参加调解。"},
        "accept": lambda: rng.choice([{"accepted": "yes"}] * 11 + [{"accepted": "no", "reason": "不属本单位职责。"}]),
        "supervise_accept": lambda: {"note": "已电话督促承办单位接件。"},
        "handle": lambda: {"result": "redirected", "process_notes": "经调解双方意见分歧较大，引导至法定途径。",
                           "next_channel": "向县人民法院起诉。"},
        "pre_suit": lambda: rng.choice([{"outcome": "withdrawn", "process_notes": "当事人自行和解并撤回。"},
                                        {"outcome": "unreachable", "process_notes": "一方当事人无法联系。"}]),
        "court_filing": lambda: {"filed": rng.choice(["yes", "no"]), "court_case_no": "(2026)示0101民初123号",
                                 "decided_on": today},
        "feedback": lambda: {"fulfilment": rng.choice(["fulfilled", "fulfilled", "partly"]),
                             "summary": "已向中心反馈。"},
        "followup": lambda: {"method": rng.choice(["phone", "visit", "online"]),
                             "applicant_satisfaction": rng.choice(["satisfied", "basically", "dissatisfied"]),
                             "respondent_satisfaction": rng.choice(["satisfied", "basically"]),
                             "fulfilment": "fulfilled", "notes": "双方表示已履行。"},
        "verify": lambda: rng.choice([{"passed": "yes"}] * 7 + [{"passed": "no", "opinion": "材料不全，请补充。"}]),
        "supervision_card": lambda: {"answer": "已安排专人办理，三日内办结。"},
        "close": lambda: {"closing_type": rng.choice(["resolved", "mediated", "procedural_end", "redirected"]),
                          "summary": "案结事了。"},
    }
    if step == "dispatch":
        if rng.random() < 0.08 and not case.get("escalated"):
            case["escalated"] = True
            return {"escalate": "yes", "escalation_reason": "涉及多部门职责，需县级研处。"}
        mode = case.get("mode")
        unit = "D04" if mode == "litigation" else rng.choice(["D03", "D03", "D04"])
        form = {"escalate": "no", "assigned_unit_id": case["units"][unit], "instructions": "请按期办理。"}
        if rng.random() < 0.1:
            form["cooperating_unit_ids"] = [case["units"]["D04" if unit == "D03" else "D03"]]
        return form
    form = forms[step]()
    if step == "triage":
        case["mode"] = form["resolution_mode"]
    for field in fields or []:  # a unit's own required fields (the court's stage, its cause of action)
        if field["required"] and field["name"] not in form and field["name"] not in ("result",):
            choices = [c["value"] for c in field["choices"] or [] if c["value"]]
            form[field["name"]] = rng.choice(choices) if choices else "按要求填写"
    return form


def drive(api: Api, number: int, units: dict[str, int], seed: int) -> None:
    """One case from registration to its end; raises PathError when a request answers unexpectedly."""
    rng = random.Random(seed * 1_000_003 + number)
    key = f"soak-{seed}-{number}"
    body = api.call("hotline", "POST", "/cases", new_case(rng), expect=201, headers={"Idempotency-Key": key})
    case = {"units": units, "code": body["code"]}
    path = []
    for _ in range(60):  # a valid path ends long before (each loop back is a one-in-ten chance)
        tasks = body["open_tasks"]
        if not tasks:
            break
        task = rng.choice(tasks)
        step = task["form_key"]
        unit = (task["unit"] or {}).get("code")
        client = STEP_CLIENT.get(step) or (f"{unit}-lead" if task["kind"] == "card" else unit)
        if client not in api.tokens:
            raise PathError(f"case {case['code']}: no system works step {step} of {task['unit']}")
        if rng.random() < 0.2:  # the system follows the case now and then
            api.call(rng.choice(["hotline", client]), "GET", f"/cases/{case['code']}")
        fields = None
        if step == "handle" or rng.random() < 0.25:  # and reads a step's form (a unit's has fields of its own)
            fields = api.call(client, "GET", f"/tasks/{task['id']}")["fields"]
        body = api.call(client, "POST", f"/tasks/{task['id']}/complete", form_for(step, case, rng, fields))
        path.append(step)
    else:
        raise PathError(f"case {case['code']}: still open after 60 steps: {path[-10:]}")
    api.stats.case_done(body["status"] == "closed", path)


def sample_memory(servers, samples: list, every: float, stopped: threading.Event) -> None:
    """(seconds since the start, [(RSS, PSS) of each server]) every ``every`` seconds until ``stopped``."""
    t0 = time.monotonic()
    while not stopped.is_set():
        samples.append((time.monotonic() - t0, [memory_mb(s.app.pid) for s in servers]))
        stopped.wait(every)


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (x, y) points."""
    if len(points) < 2:
        return 0.0
    mx, my = statistics.fmean(p[0] for p in points), statistics.fmean(p[1] for p in points)
    den = sum((x - mx) ** 2 for x, _y in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("PORTAL_SOAK_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8, help="cases driven at once")
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes per app server")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn process")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between memory samples")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-minutes", type=float, default=60, help="start no case after this long")
    args = parser.parse_args()
    url = args.database_url
    if not url.startswith("postgresql"):
        sys.exit("bench/soak.py needs a PostgreSQL database it may rebuild (--database-url)")
    tokens = prepare(url)
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    with engine.connect() as conn:
        units = dict(conn.execute(text("SELECT code, id FROM org_unit WHERE code IN ('D03', 'D04')")).all())
    engine.dispose()
    # the systems' calls are many more than the per-client limit of a real deployment allows
    servers = start_servers(url, args.servers, args.workers, args.threads,
                            {"PORTAL_API_RATE_LIMIT": "100000 per minute"})
    stats, samples, stopped = Stats(), [], threading.Event()
    numbers = itertools.count()
    deadline = time.monotonic() + args.max_minutes * 60

    def driver() -> None:
        api = Api([s.base for s in servers], tokens, stats)
        while time.monotonic() < deadline:
            number = next(numbers)
            if number >= args.cases:
                return
            try:
                drive(api, number, units, args.seed)
            except PathError as exc:
                with stats.lock:
                    stats.errors.append(str(exc))
    sampler = threading.Thread(target=sample_memory, args=(servers, samples, args.sample, stopped))
    sampler.start()
    pids = [p.pid for s in servers for p in s.processes]
    cpu_before = (cpu_seconds(pids), database_cpu(url))
    t0 = time.monotonic()
    try:
        drivers = [threading.Thread(target=driver) for _ in range(args.concurrency)]
        for d in drivers:
            d.start()
        last = t0
        while any(d.is_alive() for d in drivers):
            time.sleep(1)
            if time.monotonic() - last >= 60:
                last = time.monotonic()
                done = stats.closed + stats.open
                print(f"{(last - t0) / 60:.0f} min: {done} cases, {stats.requests} requests, "
                      f"{len(stats.errors)} errors, memory {' / '.join(f'{m[0]:.0f}' for m in samples[-1][1])} MB",
                      flush=True)
        elapsed = time.monotonic() - t0
        cpu = cpu_seconds(pids) - cpu_before[0] + sum(
            seconds - cpu_before[1].get(pid, 0.0) for pid, seconds in database_cpu(url).items())
    finally:
        stopped.set()
        sampler.join()
        stop(servers)
    report(args, stats, samples, elapsed, cpu, url)


def report(args, stats: Stats, samples: list, elapsed: float, cpu: float, url: str) -> None:
    done = stats.closed + stats.open
    print(f"{done} cases in {elapsed / 60:.1f} min ({stats.closed} closed, {stats.open} left waiting), "
          f"{stats.requests} requests ({stats.requests / elapsed:.1f}/s) from {args.concurrency} drivers "
          f"on {args.servers} servers x {args.workers} processes x {args.threads} threads")
    print("steps taken by how many cases: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.paths.items())))
    for name, values in sorted(stats.latencies.items()):
        values.sort()
        print(f"  {name:28} {len(values):7} requests, median {values[len(values) // 2]:6.0f} ms, "
              f"p95 {values[int(len(values) * 0.95)]:6.0f} ms")
    for error in stats.errors[:10]:
        print("error:", error)
    half = samples[-1][0] / 2
    growth = []
    for i in range(args.servers):
        rss = [(t, mb[i][0]) for t, mb in samples]
        middle = min(rss, key=lambda p: abs(p[0] - half))[1]
        per_second = slope([p for p in rss if p[0] >= half])
        growth.append(per_second * (rss[-1][0] - half))
        print(f"server {i + 1} resident memory (MB, master and workers): start {rss[0][1]:.0f}, "
              f"middle {middle:.0f}, end {rss[-1][1]:.0f}, max {max(m for _t, m in rss):.0f} "
              f"(proportional: end {samples[-1][1][i][1]:.0f}, max {max(mb[i][1] for _t, mb in samples):.0f}); "
              f"second half slope {per_second * 60:+.2f} MB/min, {growth[-1]:+.1f} MB over it")
    minutes = elapsed / 60
    per_case = cpu / max(done, 1)
    print(f"throughput: {done / minutes:.0f} cases/min; 10,000 cases would take "
          f"{10_000 / max(done, 1) * minutes:.0f} min at this pace. CPU of the servers, their workers and "
          f"PostgreSQL: {per_case:.2f} s per case ({cpu / elapsed:.2f} cores used), so two cores of their own "
          f"would drive at most {(os.cpu_count() or 2) * 60 / per_case:.0f} cases/min")
    holds, summary = check(url)
    print(f"flask portal check: {summary}")
    print(f"soak_cases={done} rss_max_mb={max(m[0] for _t, mb in samples for m in mb):.0f} "
          f"rss_growth_second_half_mb={max(growth):.1f} invariants={'ok' if holds else 'failed'} "
          f"errors={len(stats.errors)} cases_per_min={done / elapsed * 60:.0f}")


if __name__ == "__main__":
    main()
