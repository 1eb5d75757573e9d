"""The SMTP backend: the bytes it writes are Django's, and a verdict read late belongs to its message."""

from __future__ import annotations

import smtplib
from email import message_from_bytes, policy
from email.policy import Compat32

import pytest
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.message import sanitize_address
from hypothesis import given, settings
from hypothesis import strategies as st

from closedloop.lib import mail
from tests.followups.smtp import smtp_server

header_values = st.text(
    alphabet=st.sampled_from(list(' \t:;,<>"()=.-_@aZ09~é€\u2028\x1e\x0b\x7f')), max_size=120
) | st.text(max_size=90)


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(["Subject", "To", "List-Unsubscribe", "X-A-Rather-Long-Header-Name"]), value=header_values)
def test_a_header_is_written_as_compat32_writes_it(name, value):
    """The short ASCII path and compat32's folding agree on every value, short or long, ASCII or not."""
    for method in ("fold_binary", "fold"):
        assert _outcome(getattr(mail.HEADERS, method), name, value) == _outcome(
            getattr(Compat32(), method), name, value
        )


def _outcome(fold, name: str, value: str) -> object:
    """What folding gives, or the error it raises (compat32 refuses a value that would start a header)."""
    try:
        return fold(name, value)
    except Exception as exc:
        return type(exc), str(exc)


addresses = (
    st.emails()
    | st.from_regex(r"\A[a-z.]{0,8}@[a-z0-9.-]{0,12}\Z")
    | st.sampled_from(["Pat <pat@example.com>", "pat@bücher.de", '"p q"@example.com', "a@b..c", "pat@" + "x" * 70])
)


@settings(max_examples=500, deadline=None)
@given(address=addresses)
def test_an_envelope_address_is_what_django_sends(address):
    try:
        expected = sanitize_address(address, "utf-8")
    except (ValueError, UnicodeError) as exc:
        with pytest.raises(type(exc)):
            mail.envelope_address(address, "utf-8")
    else:
        assert mail.envelope_address(address, "utf-8") == expected


texts = st.text(st.characters(blacklist_categories=["Cs"]), max_size=300) | st.sampled_from(
    [".", "..\n.\n", "x" * 1200, "--=_abc\n--=_abc--", "From here\n"]
)


@settings(max_examples=150, deadline=None)
@given(subject=texts, text=texts, html=texts, name=st.text(max_size=40))
def test_the_bytes_are_those_django_writes(subject, text, html, name):
    message = EmailMultiAlternatives(
        subject.replace("\n", " ").replace("\r", " "),
        text,
        "Service desk <desk@example.com>",
        ["pat@example.com"],
        headers={"List-Unsubscribe": "<https://nps.example.com/c/unsubscribe/1:abc:def/>", "Message-ID": "<1@x>"},
    )
    message.attach_alternative(html, "text/html")
    mime = message.message()
    written = mail.message_bytes(mime)
    # The first write chose the boundary and left it on the message, so Django writes the same.
    assert written == mime.as_bytes(linesep="\r\n")
    assert message_from_bytes(written, policy=policy.default).get_boundary().encode() not in text.encode()


@pytest.mark.parametrize("text", [b"a line\r\n--=_aa\r\n", "a line\n--=_aa--\n"])
def test_a_boundary_found_in_the_text_is_drawn_again(monkeypatch, text):
    drawn = iter(["aa", "bb"])
    monkeypatch.setattr(mail.secrets, "token_hex", lambda size: next(drawn))
    assert mail._Writer._make_boundary(text) == "=_bb"


def _message(to: str, subject: str = "Hello") -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(subject, "Text.\n.starts with a dot\n", "desk@example.com", [to])
    message.attach_alternative("<p>Text.</p>", "text/html")
    return message


@pytest.fixture
def backend():
    with smtp_server() as mailbox:
        connection = get_connection()
        assert isinstance(connection, mail.EmailBackend)
        connection.open()
        try:
            yield connection, mailbox
        finally:
            connection.close()


def test_a_submitted_message_arrives_once_its_verdict_is_read(backend):
    connection, mailbox = backend
    connection.submit(connection.prepare(_message("pat@example.com")))
    connection.verdict()
    assert [item.recipients for item in mailbox.received] == [["pat@example.com"]]
    # A dot at the start of a line is doubled on the wire and arrives as it was written.
    assert mailbox.received[0].message.get_body(("plain",)).get_content().splitlines()[1] == ".starts with a dot"


def test_a_refused_content_fails_its_own_verdict_and_the_next_message_still_goes(backend):
    connection, mailbox = backend
    mailbox.refuse_content_to = {"refused@example.com"}
    connection.submit(connection.prepare(_message("refused@example.com")))
    with pytest.raises(smtplib.SMTPDataError) as refused:
        connection.verdict()
    assert refused.value.smtp_code == 554
    connection.submit(connection.prepare(_message("pat@example.com")))
    connection.verdict()
    assert [item.recipients for item in mailbox.received] == [["pat@example.com"]]


def test_a_command_sent_before_the_verdict_reads_it_first(backend):
    """Forgetting the verdict cannot shift every later reply onto the wrong command."""
    connection, mailbox = backend
    connection.submit(connection.prepare(_message("one@example.com", "One")))
    connection.submit(connection.prepare(_message("two@example.com", "Two")))
    connection.verdict()
    assert [item.subject for item in mailbox.received] == ["One", "Two"]
    assert connection.connection.noop()[0] == 250


def test_meanwhile_runs_once_before_the_content_goes(backend):
    connection, mailbox = backend
    seen: list[int] = []
    connection.submit(
        connection.prepare(_message("pat@example.com")), meanwhile=lambda: seen.append(len(mailbox.received))
    )
    connection.verdict()
    assert seen == [0] and len(mailbox.received) == 1


def test_meanwhile_runs_even_when_the_conversation_fails_at_once(backend):
    connection, mailbox = backend
    connection.connection.close()  # as when the server has hung up
    seen: list[str] = []
    with pytest.raises((smtplib.SMTPServerDisconnected, OSError)):
        connection.submit(connection.prepare(_message("pat@example.com")), meanwhile=lambda: seen.append("marked"))
    assert seen == ["marked"] and mailbox.received == []


def test_send_messages_waits_for_the_verdict_as_django_does(backend):
    connection, mailbox = backend
    mailbox.refuse_content_to = {"refused@example.com"}
    with pytest.raises(smtplib.SMTPDataError):
        connection.send_messages([_message("refused@example.com")])
    assert connection.send_messages([_message("pat@example.com")]) == 1
    assert len(mailbox.received) == 1


def test_other_backends_send_at_submit(mailoutbox):
    connection = get_connection("django.core.mail.backends.locmem.EmailBackend")
    transport = mail.transport(connection)
    seen: list[int] = []
    transport.submit(transport.prepare(_message("pat@example.com")), meanwhile=lambda: seen.append(len(mailoutbox)))
    transport.verdict()
    assert seen == [0] and [message.to for message in mailoutbox] == [["pat@example.com"]]
