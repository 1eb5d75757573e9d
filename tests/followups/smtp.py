"""A real SMTP server for tests: aiosmtpd on a free local port, with Django's SMTP backend aimed at it.

Messages travel over a socket exactly as in production; the server keeps each one parsed, with
the recipients of its envelope (who really gets it, whatever the headers say).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from django.conf import settings
from django.test import override_settings

# The server logs every SMTP command at INFO; a failing test's output should show the test's own.
logging.getLogger("mail.log").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Received:
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return self.message["Subject"]

    @property
    def body(self) -> str:
        """The text with the line ends a reader sees (SMTP carries every line end as CRLF)."""
        return self.message.get_content().replace("\r\n", "\n")


class Mailbox:
    """The server's handler: accepts every message, or refuses every recipient with a 550, or
    refuses the content of messages to the addresses in ``refuse_content_to`` with a 554."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refuse_recipients = False
        self.refuse_content_to: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options: list[str]) -> str:
        if self.refuse_recipients:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse_content_to.intersection(envelope.rcpt_tos):
            return "554 5.6.0 Message content refused"
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append(Received(list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        """The messages delivered to ``address``, in the order they arrived."""
        return [item for item in self.received if address in item.recipients]


def free_port() -> int:
    """A local TCP port nothing listens on (the OS picks it, and it stays closed after)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _smtp_settings(port: int) -> override_settings:
    return override_settings(
        EMAIL_BACKEND=settings.SMTP_BACKEND,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
        EMAIL_TIMEOUT=5,
    )


@contextmanager
def smtp_server(mailbox: Mailbox | None = None) -> Iterator[Mailbox]:
    """Run a local SMTP server (handled by ``mailbox``) and send Django's email to it while the block runs."""
    mailbox = mailbox or Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        with _smtp_settings(controller.port):
            yield mailbox
    finally:
        controller.stop()


@contextmanager
def smtp_server_down() -> Iterator[int]:
    """Send Django's email to a local port where no server listens (connections are refused)."""
    port = free_port()
    with _smtp_settings(port):
        yield port
