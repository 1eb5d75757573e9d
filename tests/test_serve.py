"""`manage.py serve` (what `make run` ends with): it serves, and Ctrl-C stops everything quickly.

It runs as a real process tree on a fresh SQLite file (the embedded default), and Ctrl-C is sent
the way a terminal sends it: SIGINT to the whole foreground process group.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


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


@pytest.fixture
def fresh_sqlite_env(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "closedloop.settings",
    }
    env.pop("Q_SYNC", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    return env


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads the process table from /proc")
def test_ctrl_c_stops_the_server_and_the_cluster_within_seconds(fresh_sqlite_env):
    port = _free_port()
    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=fresh_sqlite_env,
        start_new_session=True,  # its own process group, like a job in a terminal
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
                    assert reply.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.3)
        # Wait for the cluster's workers so the signal reaches a fully started tree.
        while len(_descendants(serve.pid)) < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
        tree = _descendants(serve.pid)
        assert len(tree) >= 4, "expected the web server, the cluster and its workers"

        started = time.monotonic()
        os.killpg(serve.pid, signal.SIGINT)
        serve.wait(timeout=20)
        elapsed = time.monotonic() - started
        time.sleep(0.5)
        left = [pid for pid in tree if _alive(pid)]
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
    assert elapsed < 10, f"stopping took {elapsed:.1f}s"
    assert left == [], f"processes left behind: {left}"
    output = serve.stdout.read().decode()
    assert f"http://127.0.0.1:{port}/" in output
    assert "Stopped." in output
