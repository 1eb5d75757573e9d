"""Sending outbox email: Django's SMTP backend, able to read the server's verdict on a message late.

An outbox run sends its batch over one connection, one message after another, and records each
row as soon as the server has accepted or refused its message. The server's work on a message's
content (reading it, checking it, queueing it) and the run's rendering of the next message do
not depend on each other, so ``EmailBackend.submit`` hands a message over without waiting for
that verdict, and ``verdict`` reads it after the next message is rendered. A run still has one
message in flight at a time: it reads the verdict, then marks the row while the server answers
the next message's first command (``submit``'s ``meanwhile``), before that message's content goes.

``transport`` gives every backend that shape: the others (console, a file, the tests' memory)
send at ``submit`` and have no verdict left to read.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from email.generator import BytesGenerator
from email.policy import Compat32
from functools import lru_cache
from io import BytesIO
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends import smtp
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import sanitize_address

# A line of the content starting with a dot gets a second one, so that the server does not take it
# for the end of the data (RFC 5321 4.5.2).
_LEADING_DOT = re.compile(rb"(?m)^\.")


# Characters no folding touches: other controls (line and record separators among them) end a
# line for compat32.
_PRINTABLE_ASCII = re.compile(r"[\t\x20-\x7e]*")


class HeaderPolicy(Compat32):
    """Django's email policy (compat32), which writes a short ASCII header as it is.

    compat32 runs every header through ``email.header.Header`` to fold it, the most costly step
    of writing a message out; a header that fits on its line unencoded comes out of that
    unchanged, so it is written directly. Every other header is folded as before.
    """

    def _fits(self, name: str, value: Any) -> bool:
        return (
            isinstance(value, str)
            and len(name) + 2 + len(value) <= (self.max_line_length or 78)
            and _PRINTABLE_ASCII.fullmatch(value) is not None
        )

    def fold(self, name: str, value: Any) -> str:
        if self._fits(name, value):
            return f"{name}: {value}{self.linesep}"
        return super().fold(name, value)

    def fold_binary(self, name: str, value: Any) -> bytes:
        if self._fits(name, value):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


HEADERS = HeaderPolicy()


class _Writer(BytesGenerator):
    """The standard generator, with a multipart boundary checked against the parts by a plain search.

    It checks its random boundary against the text with a regular expression built for that
    boundary, so compiled anew for every message; a boundary found nowhere in the text is safe.
    """

    @classmethod
    def _make_boundary(cls, text: str | bytes | None = None) -> str:
        while True:
            boundary = f"=_{secrets.token_hex(16)}"
            if text is None:
                return boundary
            if isinstance(text, str) and boundary not in text:
                return boundary
            if isinstance(text, bytes) and boundary.encode() not in text:
                return boundary


def message_bytes(mime: Any) -> bytes:
    """``mime`` (as Django's ``EmailMessage.message()`` builds it) written out for SMTP."""
    out = BytesIO()
    _Writer(out, mangle_from_=False, policy=HEADERS).flatten(mime, linesep="\r\n")
    return out.getvalue()


# An address with no display name, in plain ASCII (a dot-atom, then letter, digit and hyphen labels):
# sanitize_address gives it back as it is, after running it through the header parser, which costs
# more than anything else in a message's envelope.
_BARE_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
# The sender is the same for most of a batch: its checked form is kept.
_sanitized = lru_cache(maxsize=64)(sanitize_address)


def envelope_address(address: str, encoding: str) -> str:
    """``address`` as Django's SMTP backend gives it to the server (``sanitize_address``)."""
    if _BARE_ADDRESS.fullmatch(address):
        return address
    return _sanitized(address, encoding)


@dataclass(frozen=True)
class Prepared:
    """A message as the SMTP conversation sends it: the envelope and the bytes."""

    sender: str
    recipients: list[str]
    content: bytes


class LateVerdictSMTP(smtplib.SMTP):
    """An ``smtplib.SMTP`` whose ``sendmail`` can return once the content is sent (``late``), the
    server's reply to the content then read by ``verdict``, and which can do some work of the
    caller's while the server answers the first command of a message (``meanwhile``)."""

    late = False
    awaiting = False
    meanwhile: Callable[[], None] | None = None

    def getreply(self) -> tuple[int, bytes]:
        work, self.meanwhile = self.meanwhile, None
        if work is not None:
            work()
        return super().getreply()

    def data(self, msg: Any) -> tuple[int, bytes]:  # bytes: sendmail encodes text before
        if not self.late:
            return super().data(msg)
        code, reply = self.docmd("data")
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        content = _LEADING_DOT.sub(b"..", msg)
        if not content.endswith(b"\r\n"):
            content += b"\r\n"
        self.send(content + b".\r\n")
        self.awaiting = True
        return 250, b""

    def verdict(self) -> None:
        """Read the server's reply to the content sent last; SMTPDataError when it refused it."""
        if not self.awaiting:
            return
        self.awaiting = False
        code, reply = self.getreply()
        if code != 250:
            if code == 421:
                self.close()
            else:
                with contextlib.suppress(smtplib.SMTPServerDisconnected):
                    self.rset()  # as sendmail does after a refusal, for the next message
            raise smtplib.SMTPDataError(code, reply)

    def putcmd(self, cmd: str, args: str = "") -> None:
        # A command sent before the verdict was read would get the verdict for its reply.
        self.verdict()
        super().putcmd(cmd, args)


class LateVerdictSMTPSSL(LateVerdictSMTP, smtplib.SMTP_SSL):
    pass


class EmailBackend(smtp.EmailBackend):
    """Django's SMTP backend (``send_messages`` as ever), plus ``prepare``, ``submit`` and ``verdict``."""

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        return LateVerdictSMTPSSL if self.use_ssl else LateVerdictSMTP

    def prepare(self, message: EmailMessage) -> Prepared:
        """The envelope and bytes Django's ``send_messages`` would send for ``message``."""
        encoding = message.encoding or settings.DEFAULT_CHARSET
        return Prepared(
            sender=envelope_address(message.from_email, encoding),
            recipients=[envelope_address(address, encoding) for address in message.recipients()],
            content=message_bytes(message.message()),
        )

    def submit(self, prepared: Prepared, *, meanwhile: Callable[[], None] | None = None) -> None:
        """Send ``prepared`` up to the end of its content; the server's verdict is read by ``verdict``.

        ``meanwhile`` runs once the first command is sent, while the server answers it, and in any
        case before the content goes.
        """
        connection = self._conversation()
        connection.late, connection.meanwhile = True, meanwhile
        try:
            connection.sendmail(prepared.sender, prepared.recipients, prepared.content)
        finally:
            connection.late = False
            work, connection.meanwhile = connection.meanwhile, None
            if work is not None:  # the conversation failed before waiting for any reply
                work()

    def verdict(self) -> None:
        """Wait for the server's verdict on the message submitted last; SMTPDataError if refused."""
        self._conversation().verdict()

    def _conversation(self) -> LateVerdictSMTP:
        if not isinstance(self.connection, LateVerdictSMTP):
            raise smtplib.SMTPServerDisconnected("please run connect() first")
        return self.connection


class Transport(Protocol):
    def prepare(self, message: EmailMessage) -> Any: ...

    def submit(self, prepared: Any, *, meanwhile: Callable[[], None] | None = None) -> None: ...

    def verdict(self) -> None: ...


class _AtOnce:
    """Any other backend: the message goes at ``submit``, and nothing is left to wait for."""

    def __init__(self, backend: BaseEmailBackend) -> None:
        self.backend = backend

    def prepare(self, message: EmailMessage) -> EmailMessage:
        return message

    def submit(self, prepared: EmailMessage, *, meanwhile: Callable[[], None] | None = None) -> None:
        if meanwhile is not None:
            meanwhile()
        self.backend.send_messages([prepared])

    def verdict(self) -> None:
        pass


def transport(backend: BaseEmailBackend) -> Transport:
    """``backend`` as prepare, submit and verdict; the backend must be open."""
    return backend if isinstance(backend, EmailBackend) else _AtOnce(backend)
