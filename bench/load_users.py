"""The simulated staff of ``bench/load.py``: locust users of mixed roles, run in one gevent process.

Not run by hand: ``bench/load.py`` starts it with the servers' addresses, the accounts and the pools of
open steps and cases (a JSON file it writes), and reads its result (JSON on stdout's last line). Each user
logs in once through the login page, then works as its role does, with a think time between actions:

- window clerks: their worklist, the intake form, registering a case, the new case's page;
- dispatchers: their worklist, a case page, a triage or dispatch step (its page, the POST, the case page);
- a department's handlers: their worklist, a case page, a feedback step;
- verifiers: their worklist, a case page, a verification (then the dispatcher's closing);
- directors: the dashboard, the unit's cases, a case page;
- township staff: the township's cases, a case page.

Every open step is handed to one user only (the pools are shared lists, popped in this process), so no
two users race for a step and a refused completion is an error. Users are spread over the app servers
in turn. Requests follow no redirect by themselves: a POST's redirect is a request of its own, as a
browser makes it.
"""
from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import sys
import time
from pathlib import Path

import gevent
from locust import FastHttpUser, between, events, task
from locust.env import Environment

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from portal.idcard import check_digit  # noqa: E402

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
ARGS = argparse.Namespace()
POOLS: dict = {}
_server = itertools.count()
_accounts: dict[str, itertools.count] = {}
_logins = itertools.count(1)
LOGGED_IN = [0]  # users past their login (refused or not)


def id_number(n: int) -> str:
    """A valid ID number of the n-th applicant (each registration is someone else's dispute: one applicant
    behind every case would make each new case a repeat petition of all the others)."""
    born = f"{1950 + n % 50}{1 + n // 50 % 12:02d}{1 + n // 600 % 28:02d}"
    first17 = f"110105{born}{n % 1000:03d}"
    return first17 + check_digit(first17)


class Staff(FastHttpUser):
    abstract = True
    role = ""
    wait_time = between(0.5, 1.5)

    def __init__(self, environment) -> None:
        servers = POOLS["servers"]
        self.host = servers[next(_server) % len(servers)]  # the users take the app servers in turn
        super().__init__(environment)

    def on_start(self) -> None:
        names = POOLS["accounts"][self.role]
        self.username = names[next(_accounts.setdefault(self.role, itertools.count())) % len(names)]
        page = self.client.get("/login/", name="login page")
        form = {"username": self.username, "password": POOLS["password"], "csrf_token": self._csrf(page.text)}
        with self.client.post("/login/", data=form, name="login", allow_redirects=False,
                              catch_response=True) as resp:
            if resp.status_code != 302 or "/login" in resp.headers.get("Location", ""):
                resp.failure(f"login of {self.username} refused")
        LOGGED_IN[0] = next(_logins)

    @staticmethod
    def _csrf(html: str) -> str:
        found = CSRF.search(html or "")
        return found.group(1) if found else ""

    def page(self, path: str, name: str) -> str:
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"{path}: {resp.status_code}")
            return resp.text or ""

    def case_page(self, case_id: int | None = None) -> None:
        case_id = case_id or random.choice(POOLS["cases"][self.role])
        self.page(f"/cases/{case_id}", "case page")

    def complete(self, step: str, form: dict) -> None:
        """Open a step's page, submit its form, follow the redirect to the case page."""
        pool = POOLS["steps"][step]
        if not pool:
            self.case_page()
            return
        item_id = pool.pop()
        html = self.page(f"/cases/task/{item_id}", f"step page ({step})")
        with self.client.post(f"/cases/task/{item_id}", data={**form, "csrf_token": self._csrf(html)},
                              name=f"complete {step}", allow_redirects=False, catch_response=True) as resp:
            location = resp.headers.get("Location", "") if resp.status_code == 302 else ""
            if not location or "/cases/task/" in location:
                resp.failure(f"step {item_id} ({step}) not completed: {resp.status_code}")
                return
        self.page(location, "case page")


class Clerk(Staff):
    role = "clerk"

    @task(2)
    def worklist(self):
        self.page("/worklist/", "worklist")

    @task(3)
    def register(self):
        html = self.page("/cases/register", "intake form")
        n = random.randrange(10**6)
        form = {**POOLS["intake"], "csrf_token": self._csrf(html), "title": f"负载测试纠纷{n}",
                "applicants-0-name": f"申请人{n}", "applicants-0-id_number": id_number(n),
                "respondents-0-name": f"被申请人{n}"}
        with self.client.post("/cases/register", data=form, name="register case", allow_redirects=False,
                              catch_response=True) as resp:
            location = resp.headers.get("Location", "") if resp.status_code == 302 else ""
            if "/cases/" not in location or "register" in location:
                resp.failure(f"registration refused: {resp.status_code}")
                return
        self.page(location, "case page")

    @task(1)
    def case(self):
        self.case_page()


class Dispatcher(Staff):
    role = "dispatcher"

    @task(3)
    def worklist(self):
        self.page("/worklist/", "worklist")

    @task(3)
    def case(self):
        self.case_page()

    @task(3)
    def triage(self):
        self.complete("triage", {"complexity": "general", "risk_level": "low", "resolution_mode": "in_center",
                                 "opinion": "事实清楚"})

    @task(1)
    def dispatch(self):
        self.complete("dispatch", {"escalate": "no", "assigned_unit_id": POOLS["unit"], "instructions": "请3日内调处"})

    @task(1)
    def close(self):
        self.complete("close", {"closing_type": "mediated", "summary": "案结事了"})


class Handler(Staff):
    role = "handler"

    @task(3)
    def worklist(self):
        self.page("/worklist/", "worklist")

    @task(4)
    def case(self):
        self.case_page()

    @task(2)
    def feedback(self):
        self.complete("feedback", {"fulfilment": "fulfilled", "summary": "已履行"})


class Verifier(Staff):
    role = "verifier"

    @task(3)
    def worklist(self):
        self.page("/worklist/", "worklist")

    @task(3)
    def case(self):
        self.case_page()

    @task(2)
    def verify(self):
        self.complete("verify", {"passed": "yes", "opinion": ""})


class Director(Staff):
    role = "director"

    @task(1)
    def dashboard(self):
        self.page("/dashboard/", "dashboard")

    @task(1)
    def unit(self):
        self.page("/worklist/unit", "unit cases")

    @task(6)
    def case(self):
        self.case_page()


class Township(Staff):
    role = "township"

    @task(2)
    def unit(self):
        self.page("/worklist/unit", "unit cases")

    @task(4)
    def case(self):
        self.case_page()


ROLES = [Clerk, Dispatcher, Handler, Verifier, Director, Township]


def run() -> dict:
    """Ramp the users up; once all have logged in, let them work ``warmup`` seconds, then measure
    ``duration`` seconds."""
    for cls in ROLES:
        cls.fixed_count = POOLS["mix"][cls.role]
        cls.wait_time = between(ARGS.think / 2, ARGS.think * 1.5)
    env = Environment(user_classes=ROLES, events=events)
    runner = env.create_local_runner()
    users = sum(POOLS["mix"].values())
    runner.start(users, spawn_rate=ARGS.spawn_rate)
    deadline = time.time() + 600
    while LOGGED_IN[0] < users and time.time() < deadline:  # every user has logged in (slow on purpose)
        gevent.sleep(1)
    gevent.sleep(ARGS.warmup)
    env.stats.reset_all()
    sys.stdout.write("measuring\n")  # bench/load.py takes the servers' CPU times now
    sys.stdout.flush()
    started, cpu = time.time(), time.process_time()
    gevent.sleep(ARGS.duration)
    elapsed, cpu = time.time() - started, time.process_time() - cpu
    total = env.stats.total
    rows = [{"name": f"{s.method} {s.name}", "requests": s.num_requests, "failures": s.num_failures,
             "median_ms": s.get_response_time_percentile(0.5), "p95_ms": s.get_response_time_percentile(0.95),
             "max_ms": round(s.max_response_time or 0)}
            for s in sorted(env.stats.entries.values(), key=lambda s: -s.num_requests)]
    errors = [{"name": e.name, "error": str(e.error), "count": e.occurrences} for e in env.stats.errors.values()]
    result = {"users": runner.user_count, "seconds": elapsed, "cpu_seconds": cpu, "requests": total.num_requests,
              "failures": total.num_failures, "rps": total.num_requests / elapsed,
              "p95_ms": total.get_response_time_percentile(0.95), "median_ms": total.get_response_time_percentile(0.5),
              "rows": rows, "errors": errors[:20], "left": {k: len(v) for k, v in POOLS["steps"].items()}}
    runner.quit()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pools", help="the JSON file bench/load.py wrote")
    parser.add_argument("--warmup", type=float, default=20)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between a user's actions")
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.parse_args(namespace=ARGS)
    with open(ARGS.pools) as f:
        POOLS.update(json.load(f))
    result = run()
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
