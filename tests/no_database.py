"""Requests to the product while its database does not answer: a real connection refused.

The request runs in a fresh process whose DATABASE_URL names a PostgreSQL port nobody listens
on, so every query fails the way it fails when the database server is down.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_SCRIPT = """
import json, sys
import django
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
if sys.argv[2] == "signed-in":
    client.cookies["sessionid"] = "a" * 32  # reading the session needs the database
reply = client.get(sys.argv[1])
print(json.dumps({"status": reply.status_code, "type": reply["Content-Type"], "body": reply.content.decode()}))
"""


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: str


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_without_database(path: str, *, signed_in: bool = False) -> Reply:
    """GET ``path`` through the whole middleware stack with the database down."""
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{_closed_port()}/closedloop_down",
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, path, "signed-in" if signed_in else "anonymous"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    reply = json.loads(done.stdout.strip().splitlines()[-1])
    return Reply(reply["status"], reply["type"], reply["body"])
