"""`manage.py serve` (what `make run` ends with): gunicorn and whitenoise as in production, the
demo logins printed last, and Ctrl-C stops everything quickly.

It runs as a real process tree on a fresh SQLite file (the embedded default), and Ctrl-C is sent
the way a terminal sends it: SIGINT to the whole foreground process group.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.error import HTTPError

import pytest
from prometheus_client.parser import text_string_to_metric_families

from closedloop.demo import TICKET_SURVEY, USERS

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "scrape-token-for-serve"
START_SECONDS = 180  # collectstatic, migrations and two process trees on a busy 2-core machine

pytestmark = pytest.mark.skipif(not Path("/proc").exists(), reason="reads the process table from /proc")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


# The server is on this machine: no proxy from the environment.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(url: str, **headers: str) -> Reply:
    request = urllib.request.Request(url, headers=headers)
    try:
        with _opener.open(request, timeout=10) as reply:
            return Reply(reply.status, {k.lower(): v for k, v in reply.headers.items()}, reply.read())
    except HTTPError as error:
        return Reply(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    folder: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def output(self) -> str:
        return (self.folder / "serve.out").read_text()

    def wait_for_output(self, text: str) -> None:
        deadline = time.monotonic() + START_SECONDS
        while text not in self.output:
            assert self.process.poll() is None, f"serve exited:\n{self.output}"
            assert time.monotonic() < deadline, f"no {text!r} in:\n{self.output}"
            time.sleep(0.3)

    def interrupt(self) -> None:
        os.killpg(self.process.pid, signal.SIGINT)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=300)


def _serve_env(folder: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "closedloop.settings",
        # collectstatic writes here, not into the checkout other runs may be serving from.
        "STATIC_ROOT": str(folder / "static"),
        "METRICS_TOKEN": TOKEN,
    }
    for name in ("Q_SYNC", "REDIS_URL", "Q_BROKER", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    _manage(env, "migrate", "-v0")
    return env


def _start(folder: Path, env: dict[str, str], *options: str) -> Served:
    port = _free_port()
    with (folder / "serve.out").open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(port), "--run-dir", str(folder / "run"), *options],
            cwd=ROOT,
            env=env,
            start_new_session=True,  # its own process group, like a job in a terminal
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return Served(process, port, folder)


LAST_LOGIN = f"  {USERS[-1].username:<15} {USERS[-1].role:<12}".rstrip()


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    """`serve --demo` as `make run` starts it, on a database where the demo counts as present
    (its survey exists), so it prints the logins without building the demo year."""
    folder = tmp_path_factory.mktemp("serve")
    env = _serve_env(folder)
    _manage(
        env,
        "shell",
        "-c",
        f"from surveys.services import survey_create; survey_create(slug={TICKET_SURVEY!r}, name='Tickets')",
    )
    _manage(env, "setup_schedules")
    server = _start(folder, env, "--demo")
    try:
        server.wait_for_output(LAST_LOGIN)
        yield server
    finally:
        server.interrupt()
        try:
            server.process.wait(timeout=20)
        finally:
            server.kill()


def _is_gunicorn(command_line: str) -> bool:
    return "gunicorn" in command_line and "closedloop.wsgi" in command_line


def test_the_web_server_is_gunicorn_with_two_workers(served):
    reply = _get(f"{served.url}/login/")

    assert reply.status == 200
    assert reply.headers["server"] == "gunicorn"
    # Where setproctitle is installed, gunicorn renames them "gunicorn: worker [closedloop.wsgi...]".
    gunicorn = [pid for pid in _descendants(served.process.pid) if _is_gunicorn(_command_line(pid))]
    assert len(gunicorn) == 3, "a master and two workers"
    assert not any("runserver" in _command_line(pid) for pid in _descendants(served.process.pid))


def test_the_terminal_ends_with_the_demo_logins_and_shows_no_request_or_task_lines(served):
    _get(f"{served.url}/login/")
    time.sleep(0.5)  # the access log line is written after the reply

    lines = served.output.rstrip("\n").splitlines()
    assert lines[-1] == LAST_LOGIN
    running = next(i for i, line in enumerate(lines) if line.startswith("closedloop is running at"))
    assert lines[running] == f"closedloop is running at {served.url}/ (Ctrl-C stops it)"
    assert any(line.startswith("Sign in at") for line in lines[running:])
    assert "GET /" not in served.output
    assert "django-q" not in served.output
    assert '"GET /login/ HTTP/1.1" 200' in (served.folder / "run" / "web.log").read_text()
    assert "Q Cluster" in (served.folder / "run" / "tasks.log").read_text()


def test_the_api_docs_assets_are_collected_hashed_and_served_by_whitenoise(served):
    page = _get(f"{served.url}/api/v1/docs/").body.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', page)
    static = [url for url in urls if url.startswith("/static/")]

    assert any("swagger-ui-bundle" in url for url in static)
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    for url in static:
        assert re.search(r"\.[0-9a-f]{12}\.\w+$", url), f"{url} is not a hashed name"
        reply = _get(f"{served.url}{url}", **{"Accept-Encoding": "gzip"})
        assert reply.status == 200, url
        # whitenoise marks hashed files cacheable for ever, and sends the compressed copy.
        assert "immutable" in reply.headers["cache-control"], url
    bundle = next(url for url in static if url.endswith(".js"))
    assert _get(f"{served.url}{bundle}", **{"Accept-Encoding": "gzip"}).headers.get("content-encoding") == "gzip"


def test_favicon_ico_leads_to_the_collected_icon(served):
    reply = _get(f"{served.url}/favicon.ico")

    assert reply.status == 200
    assert reply.headers["content-type"] == "image/svg+xml"
    assert reply.body.startswith(b"<svg")


def _login_count(served: Served) -> float:
    reply = _get(f"{served.url}/metrics", Authorization=f"Bearer {TOKEN}")
    assert reply.status == 200
    return sum(
        sample.value
        for family in text_string_to_metric_families(reply.body.decode())
        for sample in family.samples
        if sample.name == "closedloop_http_request_duration_seconds_count"
        and sample.labels == {"view": "login", "method": "GET", "status": "200"}
    )


def test_the_metrics_add_up_the_requests_of_every_worker(served):
    before = _login_count(served)
    for _ in range(12):
        assert _get(f"{served.url}/login/").status == 200

    assert _login_count(served) == before + 12


def test_the_cluster_heartbeat_reaches_healthz_across_processes(served):
    # The cluster's scheduler first wakes about 30 seconds after it starts.
    deadline = time.monotonic() + START_SECONDS
    while (body := json.loads(_get(f"{served.url}/healthz").body))["status"] != "ok":
        assert body["status"] == "degraded", body
        assert time.monotonic() < deadline, body
        time.sleep(1)

    assert body["database"]["ok"] is True
    assert 0 <= body["cluster"]["age_s"] <= 120


def test_ctrl_c_stops_the_server_and_the_cluster_within_seconds(tmp_path):
    server = _start(tmp_path, _serve_env(tmp_path))
    try:
        server.wait_for_output("closedloop is running at")
        # Wait for the cluster's workers so the signal reaches a fully started tree.
        deadline = time.monotonic() + 60
        while len(_descendants(server.process.pid)) < 6 and time.monotonic() < deadline:
            time.sleep(0.2)
        tree = _descendants(server.process.pid)
        assert len(tree) >= 6, "expected gunicorn and its workers, the cluster and its workers"

        started = time.monotonic()
        server.interrupt()
        server.process.wait(timeout=20)
        elapsed = time.monotonic() - started
        time.sleep(0.5)
        left = [pid for pid in tree if _alive(pid)]
    finally:
        server.kill()
    assert elapsed < 10, f"stopping took {elapsed:.1f}s"
    assert left == [], f"processes left behind: {left}"
    assert f"http://127.0.0.1:{server.port}/" in server.output
    assert "Stopped." in server.output
