"""The fault harness: real gunicorn servers and timer workers as subprocesses on the test database,
a browser-like HTTP client, and a private PostgreSQL cluster that a test may stop and start.

Every process a test starts is started in its own session (process group), so it can be killed
with everything it forked, and is always stopped when the test ends, failed or not.
"""
from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine

from tests.deploy.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "faults-test-secret"   # every server of a test shares it, as the servers of one deployment do
READY_WITHIN = 120              # seconds a server or worker may take to start on a busy machine


def portal_env(app_config: dict, url: str | None = None) -> dict:
    """The environment of a portal process on the test's database (or ``url``)."""
    return {**os.environ, "FLASK_APP": "portal:create_app()", "PORTAL_SECRET_KEY": SECRET,
            "PORTAL_DATABASE_URL": url or app_config["SQLALCHEMY_DATABASE_URI"],
            "PORTAL_UPLOAD_FOLDER": app_config["UPLOAD_FOLDER"].rstrip("/"),
            "PORTAL_PRINT_FOLDER": app_config["PORTAL_PRINT_FOLDER"], "PYTHONUNBUFFERED": "1"}


def children_of(pid: int) -> list[int]:
    """The live child processes of ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _kill_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


class Gunicorn:
    """``gunicorn portal:create_app()`` on a free port, the way ``make run`` serves the portal (sync
    workers), with ``--preload`` so that a worker killed alone is replaced by a fork at once."""

    def __init__(self, env: dict, log: Path, workers: int = 2, port: int | None = None):
        self.env, self.log, self.workers = env, log, workers
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the server without waiting for it to answer (``wait_ready``)."""
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", str(self.workers), "--preload", "--bind",
                 f"127.0.0.1:{self.port}", "--timeout", "120", "--graceful-timeout", "2", "portal:create_app()"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_WITHIN
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/login/")
                ok = conn.getresponse().status == 200
                conn.close()
                if ok:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer within {READY_WITHIN} s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        return children_of(self.proc.pid) if self.proc else []

    def kill(self) -> None:
        """SIGKILL the master and its workers at once, as a machine losing the process would."""
        _kill_group(self.proc, signal.SIGKILL)
        self.proc.wait()
        for pid in self.worker_pids():  # orphans are reparented; the group kill has reached them
            os.kill(pid, signal.SIGKILL)

    def terminate(self) -> None:
        """Ask the server to stop (``stop`` waits for it)."""
        if self.proc is not None and self.proc.poll() is None:
            _kill_group(self.proc, signal.SIGTERM)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            _kill_group(self.proc, signal.SIGKILL)
            self.proc.wait()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class ServerGone(Exception):
    """The connection was refused, reset or closed before an answer: the outcome is unknown."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    text: str
    path: str = ""   # what was asked for

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass
class Exchange:
    """One request as a client saw it: when it was sent and answered, and the answer (None: none came)."""

    sent: float
    answered: float
    method: str
    path: str
    response: Response | None


@dataclass
class Browser:
    """A user's browser: its cookies, one request per connection (as a browser's form POST is).
    ``journal``, when given, gets an ``Exchange`` for every request."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    timeout: float = 60
    journal: list | None = None

    def request(self, method: str, path: str, data: dict | None = None, headers: dict | None = None) -> Response:
        head = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(headers or {})}
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data, doseq=True)
            head["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        sent = time.monotonic()
        try:
            conn.request(method, path, body, head)
            resp = conn.getresponse()
            text = resp.read().decode(errors="replace")
        except (ConnectionError, http.client.RemoteDisconnected, http.client.IncompleteRead) as exc:
            self._note(sent, method, path, None)
            raise ServerGone(f"{method} {path}: {exc!r}") from exc
        finally:
            conn.close()
        for header in resp.headers.get_all("Set-Cookie") or []:
            name, _sep, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        answer = Response(resp.status, {k.lower(): v for k, v in resp.headers.items()}, text, path)
        self._note(sent, method, path, answer)
        return answer

    def _note(self, sent: float, method: str, path: str, answer: Response | None) -> None:
        if self.journal is not None:
            self.journal.append(Exchange(sent, time.monotonic(), method, path, answer))

    def get(self, path: str, **kw) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, data: dict, **kw) -> Response:
        return self.request("POST", path, data=data, **kw)

    def token(self, page: Response) -> str:
        found = CSRF.search(page.text)
        assert found, f"no CSRF token on the page ({page.status}): {page.text[:500]}"
        return found.group(1)

    def login(self, username: str, password: str) -> None:
        self.cookies.clear()
        resp = self.post("/login/", {"username": username, "password": password,
                                     "csrf_token": self.token(self.get("/login/"))})
        assert resp.status == 302 and "/login" not in resp.location, f"login {username}: {resp.status}"


DB_DOWN = "数据库暂时无法连接，请稍后重试。"


def assert_clean_unavailable(resp: Response, api: bool = False) -> None:
    """The answer of a portal whose database cannot be reached: 503, when to retry, the Chinese message, in
    JSON for the API, and no traceback."""
    assert resp.status == 503 and resp.headers.get("retry-after", "").isdigit(), (resp.status, resp.text[:500])
    assert "Traceback" not in resp.text and "sqlalchemy" not in resp.text.lower(), resp.text[:2000]
    if api:
        import json
        assert resp.headers["content-type"].startswith("application/json")
        assert json.loads(resp.text) == {"error": {"code": "database_unavailable", "message": DB_DOWN}}
    else:
        assert resp.headers["content-type"].startswith("text/html") and DB_DOWN in resp.text, resp.text[:500]


TASK_FORM, STEP_CLOSED, DONE_BY = 'id="task-form"', "该环节已办结", "已由"


def complete_over_http(browser: Browser, case_id: int, item_id: int, form: dict, tally: Tally,
                       give_up=lambda: False) -> str | None:
    """Open a step's page and submit its form as a user does, again whenever the server is gone or says
    the database is: "done" (answered by the case page), "found_done" (a POST whose answer was lost or
    was a 503 had committed: the step's page or a new POST says it is done), or None when ``give_up()``
    while the server is gone. Anything else fails."""
    uncertain = False
    while True:
        posting = False
        try:
            page = browser.get(f"/cases/task/{item_id}")
            if page.status == 503:
                assert_clean_unavailable(page)
                tally.add("get_503")
                time.sleep(0.1)
                continue
            if page.status == 200 and TASK_FORM not in page.text and STEP_CLOSED in page.text and uncertain:
                return "found_done"
            assert page.status == 200 and TASK_FORM in page.text, (item_id, page.status, page.text[:300])
            tally.add("posts")
            tally.add("in_flight")
            posting = True
            sent = time.monotonic()
            try:
                resp = browser.post(f"/cases/task/{item_id}", {**form, "csrf_token": browser.token(page)})
            finally:
                tally.add("in_flight", -1)
            tally.add("posts_answered")
            tally.add("post_answered_us", int((time.monotonic() - sent) * 1e6))
        except ServerGone as exc:
            refused = isinstance(exc.__cause__, ConnectionRefusedError)
            tally.add("refused" if refused else "post_cut_off" if posting else "get_cut_off")
            uncertain = uncertain or (posting and not refused)
            if give_up():
                return None
            time.sleep(0.1)
            continue
        if resp.status == 503:
            assert_clean_unavailable(resp)
            tally.add("post_503")
            uncertain = True
            time.sleep(0.1)
            continue
        if resp.status == 302 and resp.location.endswith(f"/cases/{case_id}"):
            return "done"
        if resp.status == 409 and DONE_BY in resp.text and uncertain:
            return "found_done"
        raise AssertionError((item_id, resp.status, resp.text[:300]))


def wait_for(predicate, what: str, within: float = READY_WITHIN, every: float = 0.05):
    """Poll until ``predicate()`` is truthy; its value."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"waited {within} s for {what}")


class Reader:
    """Short read-only queries of the test database from any thread (one connection per query, so no
    reader holds a snapshot or a lock that the servers would wait on)."""

    def __init__(self, url: str):
        self.engine = create_engine(url, pool_pre_ping=True)

    def scalar(self, sql, **params):
        with self.engine.connect() as conn:
            return conn.execute(sql, params).scalar()

    def all(self, sql, **params):
        with self.engine.connect() as conn:
            return conn.execute(sql, params).all()

    def close(self) -> None:
        self.engine.dispose()


def timer_worker(env: dict, log: Path) -> subprocess.Popen:
    """``flask portal worker --once`` (fires everything due, then exits)."""
    with open(log, "a") as out:
        return subprocess.Popen([sys.executable, "-m", "flask", "portal", "worker", "--once"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def kill_all(procs) -> None:
    for proc in procs:
        if proc is not None and proc.poll() is None:
            _kill_group(proc, signal.SIGKILL)
            proc.wait()


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (the machine's shared server is never touched): initdb in a
    temporary directory, a free port on 127.0.0.1, its socket in that directory. Run as the ``postgres``
    user when the tests run as root (initdb refuses root)."""

    def __init__(self):
        self.bin = self.find_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="portal-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")

    @staticmethod
    def find_bin() -> Path:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
        assert found, "the PostgreSQL server (Debian package postgresql) is not installed: run `make test-setup`"
        return found[-1].parent

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run([*self.as_user, str(self.bin / tool), *args], capture_output=True, text=True,
                                cwd=self.dir, timeout=120)
        assert result.returncode == 0, f"{tool} {args}: {result.stdout}{result.stderr}\n{self.log_tail()}"

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c full_page_writes=off -c max_connections=50")
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.dir / "server.log"),
                  "-o", options)

    def stop(self, mode: str = "immediate") -> None:
        self._run("pg_ctl", "stop", "-w", "-t", "60", "-m", mode, "-D", str(self.data))

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def log_tail(self, lines: int = 20) -> str:
        log = self.dir / "server.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""

    def destroy(self) -> None:
        if self.running():
            subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "stop", "-m", "immediate", "-D",
                            str(self.data)], capture_output=True, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)


class Tally:
    """A thread-safe tally of named events (what the harness saw), which a thread can wait on."""

    def __init__(self):
        self._changed = threading.Condition()
        self.counts: dict[str, int] = {}

    def add(self, name: str, n: int = 1) -> None:
        with self._changed:
            self.counts[name] = self.counts.get(name, 0) + n
            self._changed.notify_all()

    def __getitem__(self, name: str) -> int:
        with self._changed:
            return self.counts.get(name, 0)

    def wait(self, predicate, what: str, within: float = READY_WITHIN) -> None:
        """Wake the moment ``predicate(self)`` holds (no polling: a POST counted is still in flight)."""
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self), timeout=within):
                raise AssertionError(f"waited {within} s for {what}: {self.summary()}")

    def mean_post_s(self) -> float:
        """The mean time a POST took to be answered, in seconds."""
        with self._changed:
            return self.counts.get("post_answered_us", 0) / max(1, self.counts.get("posts_answered", 0)) / 1e6

    def summary(self) -> str:
        with self._changed:
            return " ".join(f"{k}={v}" for k, v in sorted(self.counts.items()))
