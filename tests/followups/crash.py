"""Crashing a real delivery: a django-q2 cluster sending to a local SMTP server and webhook receiver.

The cluster is ``manage.py qcluster`` in a process group of its own, so ``crash`` can kill it
with SIGKILL all at once (the main process, its workers and helpers), as a power cut or the
out-of-memory killer would; ``stop`` ends one as the documented service files do. The servers
answer each message after a short delay, as remote ones would, so a crash lands mid-batch, and
note when each message arrived, by the Message-ID or webhook-id it carries on every attempt.

Shared by tests/followups/test_delivery_crash.py, tests/followups/test_update_delivery_crash.py and
the benchmarks tests/bench/crash_delivery.py and tests/bench/fanout.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from followups.services.outbox import LEASE_MARGIN_SECONDS
from tests.followups.smtp import Mailbox, free_port
from tests.servers import serving

ROOT = Path(__file__).resolve().parent.parent.parent
# Short timeouts make short leases (2 x the timeout + 10 s), so a crash is recovered in seconds.
EMAIL_TIMEOUT = 1
WEBHOOKS_TIMEOUT = 1


@dataclass
class Arrivals:
    """When each message arrived, by the id it carries on every attempt."""

    times: dict[str, list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, key: str) -> None:
        with self.lock:
            self.times.setdefault(key, []).append(time.monotonic())

    def __len__(self) -> int:
        with self.lock:
            return sum(len(times) for times in self.times.values())

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter({key: len(times) for key, times in self.times.items()})

    def first_after(self, key: str, moment: float) -> float | None:
        with self.lock:
            return next((at for at in self.times.get(key, []) if at > moment), None)


class SlowMailbox(Mailbox):
    """Accepts each message after ``delay`` seconds and notes its Message-ID.

    ``on_arrival``, when set, is given the Message-ID in a thread of its own (so it may use the
    database) before the message is accepted.
    """

    def __init__(
        self, delay: float, on_arrival: Callable[[str], None] | None = None, *, by_recipient: bool = False
    ) -> None:
        super().__init__()
        self.delay = delay
        self.on_arrival = on_arrival
        # Notes each message by its envelope recipient instead, for outboxes that send one
        # message per address.
        self.by_recipient = by_recipient
        self.arrivals = Arrivals()
        # How many senders had a message in hand at once, at most (the server's loop counts).
        self.sending = 0
        self.most_sending = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.sending += 1
        self.most_sending = max(self.most_sending, self.sending)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.sending -= 1
        if self.by_recipient:
            message_id = envelope.rcpt_tos[0]
        else:
            message_id = message_from_bytes(envelope.content, policy=policy.default)["Message-ID"]
        if self.on_arrival is not None:
            await asyncio.to_thread(self.on_arrival, message_id)
        reply = await super().handle_DATA(server, session, envelope)
        self.arrivals.add(message_id)
        return reply


class WebhookReceiver(ThreadingHTTPServer):
    """Answers each POST with a 200 after ``delay`` seconds and notes its webhook-id.

    ``on_arrival``, when set, is given the webhook-id in the request's thread before the answer.
    """

    daemon_threads = True

    def __init__(self, delay: float, on_arrival: Callable[[str], None] | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.delay = delay
        self.on_arrival = on_arrival
        self.arrivals = Arrivals()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a sender killed mid-post hangs up before the answer: expected here


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: WebhookReceiver

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(self.server.delay)
        if self.server.on_arrival is not None:
            self.server.on_arrival(self.headers["webhook-id"])
        self.server.arrivals.add(self.headers["webhook-id"])
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep the output quiet


@contextmanager
def smtp(mailbox: SlowMailbox) -> Iterator[int]:
    """A local SMTP server handled by ``mailbox``; yields its port."""
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


@contextmanager
def receivers(delay: float) -> Iterator[tuple[SlowMailbox, int, WebhookReceiver]]:
    """A local SMTP server (its mailbox and port) and webhook receiver, answering after ``delay`` s.

    The mailbox takes three times as long: a batch of emails goes out faster than webhooks,
    each recorded before the next post, and both should still be under way at a kill.
    """
    mailbox = SlowMailbox(3 * delay)
    with smtp(mailbox) as port, serving(WebhookReceiver(delay)) as receiver:
        yield mailbox, port, receiver


def cluster_env(
    database_url: str,
    *,
    smtp_port: int,
    workers: int,
    email_timeout: int = EMAIL_TIMEOUT,
    webhooks_timeout: int = WEBHOOKS_TIMEOUT,
) -> dict[str, str]:
    """The environment of a production cluster, aimed at the local servers."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "closedloop.settings",
        "Q_WORKERS": str(workers),
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}?timeout={email_timeout}",
        "WEBHOOKS_TIMEOUT_SECONDS": str(webhooks_timeout),
        "WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("Q_SYNC", None)
    return env


def start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start ``manage.py qcluster`` in a process group of its own, its output appended to ``log``."""
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def crash(cluster: subprocess.Popen[bytes]) -> None:
    """SIGKILL the whole cluster at once: no process gets to finish what it was doing."""
    os.killpg(cluster.pid, signal.SIGKILL)
    cluster.wait()


def stop(cluster: subprocess.Popen[bytes]) -> None:
    """Stop the cluster by signalling its main process only, which stops its workers."""
    cluster.send_signal(signal.SIGTERM)
    try:
        cluster.wait(timeout=30)
    except subprocess.TimeoutExpired:
        crash(cluster)


def wait_until(condition: Callable[[], bool], *, timeout: float, interval: float = 0.05) -> bool:
    """Whether ``condition`` came true within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def database_url(db: dict[str, Any]) -> str:
    """The URL of a Django database, for the cluster's DATABASE_URL."""
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def lease_seconds(timeout: float) -> float:
    """How long a claim lasts with this per-message timeout: the product's rule, stated once here."""
    return 2 * timeout + LEASE_MARGIN_SECONDS


def twice(counts: Counter[str]) -> int:
    """How many extra copies arrived (a message that came three times counts two)."""
    return sum(count - 1 for count in counts.values())


def under_way(delivered: int, total: int, other_delivered: int, other_total: int) -> bool:
    """Whether both kinds of message are far enough along for a kill: half of each, or most of one."""
    shares = (delivered / total, other_delivered / other_total)
    return min(shares) >= 0.5 or max(shares) >= 0.9
