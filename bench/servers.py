"""App servers for the benchmarks that load the portal (``bench/load.py``, ``bench/soak.py``): gunicorn on
free loopback ports, each with its ``flask portal worker``, on one database; stopping them; what they use
(CPU, memory); and ``flask portal check`` afterwards."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """One app server: its base URL, its gunicorn (master and workers) and its ``flask portal worker``."""

    base: str
    app: subprocess.Popen
    worker: subprocess.Popen

    @property
    def processes(self) -> list[subprocess.Popen]:
        return [self.app, self.worker]


def start_servers(url: str, count: int, workers: int, threads: int, env_extra: dict | None = None) -> list[Server]:
    """``count`` app servers on the database at ``url`` (gunicorn with ``workers`` gthread processes of
    ``threads`` threads on a free loopback port, and a ``flask portal worker``), once every one answers.
    Their logs go to bench/out/server-N.log and worker-N.log."""
    env = {**os.environ, "PORTAL_DATABASE_URL": url, "PORTAL_SECRET_KEY": "bench-servers",
           "FLASK_APP": "portal:create_app()", **(env_extra or {})}
    OUT.mkdir(parents=True, exist_ok=True)
    servers = []
    for i in range(count):
        port = free_port()
        app = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "--workers", str(workers), "--threads", str(threads),
             "--worker-class", "gthread", "--bind", f"127.0.0.1:{port}", "--timeout", "60", "portal:create_app()"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(OUT / f"server-{i}.log", "w"))
        worker = subprocess.Popen([str(ROOT / ".venv/bin/flask"), "portal", "worker", "--interval", "10"],
                                  cwd=ROOT, env=env, stdout=open(OUT / f"worker-{i}.log", "w"),
                                  stderr=subprocess.STDOUT)
        servers.append(Server(f"http://127.0.0.1:{port}", app, worker))
    deadline = time.monotonic() + 90
    for server in servers:
        while True:
            try:
                urllib.request.urlopen(server.base + "/login/", timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline or any(p.poll() is not None for s in servers for p in s.processes):
                    stop(servers)
                    sys.exit(f"the app server at {server.base} did not start: see {OUT}/server-*.log")
                time.sleep(0.5)
    return servers


def stop(servers: list[Server]) -> None:
    """Stop the servers and their workers (gunicorn finishes the requests under way)."""
    processes = [p for s in servers for p in s.processes]
    for p in processes:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in processes:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def check(url: str) -> tuple[bool, str]:
    """``flask portal check`` on the database: (whether it holds, its last line)."""
    done = subprocess.run([str(ROOT / ".venv/bin/flask"), "portal", "check"], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PORTAL_DATABASE_URL": url, "FLASK_APP": "portal:create_app()"})
    lines = done.stdout.strip().splitlines() or [done.stderr.strip()[-500:]]
    if done.returncode:
        print("\n".join(lines[:20]))
    return done.returncode == 0, lines[-1]


def cpu_seconds(pids: list[int]) -> float:
    """CPU time used so far by these processes and their children (gunicorn's workers)."""
    total = 0.0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            for p in [proc, *proc.children(recursive=True)]:
                times = p.cpu_times()
                total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def database_cpu(url: str) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend serving the database at ``url`` (by process id)."""
    name = f" {urllib.parse.urlsplit(url).path.strip('/')} "
    found = {}
    for proc in psutil.process_iter(["name", "cmdline", "cpu_times"]):
        if proc.info["name"] == "postgres" and name in " ".join(proc.info["cmdline"] or []) + " ":
            found[proc.pid] = proc.info["cpu_times"].user + proc.info["cpu_times"].system
    return found


def memory_mb(pid: int) -> tuple[float, float]:
    """Memory of a process and its children (an app server: gunicorn's master and its workers), in MB:
    (the sum of their resident set sizes, the sum of their proportional set sizes). The first counts the
    pages they share (the interpreter, the libraries) once per process, the second once."""
    rss = pss = 0
    try:
        proc = psutil.Process(pid)
        for p in [proc, *proc.children(recursive=True)]:
            info = p.memory_full_info()
            rss, pss = rss + info.rss, pss + info.pss
    except psutil.NoSuchProcess:
        pass
    return rss / 2**20, pss / 2**20
