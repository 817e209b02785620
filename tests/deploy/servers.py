"""Real app servers for the deployment tests: ``deploy/serve.sh`` started on free ports against the test
database and folders, and a browser (one cookie jar) whose requests go to whichever server it names, as
a reverse proxy spreads them."""
from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from portal.config import ROOT

SECRET = "one-key-for-every-server-of-the-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(app, count: int = 2, log=None, **env):
    """``count`` servers (one gunicorn process each) with their timer workers, in production mode, on
    the test database and folders; yields their base URLs. Every process is stopped, whatever happens."""
    ports = [free_port() for _ in range(count)]
    environment = {**os.environ, "PORTAL_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                   "PORTAL_SECRET_KEY": SECRET, "PORTAL_UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"],
                   "PORTAL_PRINT_FOLDER": app.config["PORTAL_PRINT_FOLDER"], "PORTAL_WEB_WORKERS": "1",
                   "PORTAL_WORKER_INTERVAL": "1", **env}
    proc = subprocess.Popen([str(ROOT / "deploy" / "serve.sh"), *map(str, ports)], cwd=ROOT, env=environment,
                            stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url in urls:
            _wait_until_up(url, proc)
        yield urls
    finally:
        proc.terminate()  # serve.sh stops its servers and workers
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:  # anything left in its process group
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def _wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"deploy/serve.sh ended with {proc.returncode} before {url} answered")
        try:
            if Browser().get(url, "/login/").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class Browser:
    """One browser's cookie jar; each request goes to the server it names (as behind one proxy)."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def get(self, server: str, path: str) -> Response:
        return self._request(server, "GET", path)

    def post(self, server: str, path: str, fields: dict, files: list[tuple[str, str, str, bytes]] = ()) -> Response:
        """A form POST; ``files``: (field, file name, content type, bytes) sent as multipart."""
        if not files:
            return self._request(server, "POST", path, urlencode(fields).encode(),
                                 "application/x-www-form-urlencoded")
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                 for k, v in fields.items()]
        parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                  f"Content-Type: {kind}\r\n\r\n".encode() + data + b"\r\n" for name, filename, kind, data in files]
        return self._request(server, "POST", path, b"".join(parts) + f"--{boundary}--\r\n".encode(),
                             f"multipart/form-data; boundary={boundary}")

    def _request(self, server: str, method: str, path: str, body: bytes | None = None,
                 content_type: str | None = None) -> Response:
        address = urlsplit(server)
        conn = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            conn.request(method, path, body, headers)
            resp = conn.getresponse()
            response = Response(resp.status, resp.headers, resp.read())
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return response

    def csrf_token(self, server: str, path: str) -> str:
        """The CSRF token of the first form on the page at ``path``."""
        page = self.get(server, path)
        assert page.status == 200, (path, page.status)
        return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)

    def log_in(self, server: str, username: str, password: str) -> Response:
        token = self.csrf_token(server, "/login/")
        return self.post(server, "/login/", {"username": username, "password": password, "csrf_token": token})
