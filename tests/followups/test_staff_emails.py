"""Staff emails end to end: cases opened by ingestion, swept, digested, and delivered over real SMTP.

The world: alice and bob work the service desk and lena leads it; here she works no cases of her
own, so the owner and the lead of a case are always two people. Cases open the way production
opens them: a response is ingested, and after its transaction commits the follow-up app routes
the case and queues its emails; the delivery task runs inline.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from django.utils.dateformat import format as date_format

from followups.models import Case, CaseEvent, Notification
from followups.retries import EMAIL_RETRIES
from followups.services import team_create
from followups.services.cases import case_transition
from followups.services.delivery import notifications_deliver
from followups.services.digests import digests_send
from followups.services.escalation import escalation_sweep
from followups.services.profiles import agent_profile_update
from surveys.services import responses_ingest
from tests.factories import response_item
from tests.followups.smtp import Mailbox, smtp_server, smtp_server_down

NOTIFY_DATE = "D j M, H:i e"


@pytest.fixture
def desk(survey, alice, bob, lena):
    """The shared desk, without lena among its members."""
    return team_create(slug="desk", name="Service desk", members=["alice", "bob"], lead="lena")


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as mailbox:
        yield mailbox


@pytest.fixture
def ingest_case(desk, django_capture_on_commit_callbacks):
    """Ingest one response and return the case the follow-up app opened for it after commit."""

    def ingest_case(score: int, *, comment: str = "", name: str | None = None) -> Case:
        item = response_item(score, comment=comment)
        if name is not None:
            item["customer"]["name"] = name
        with django_capture_on_commit_callbacks(execute=True):
            outcome = responses_ingest(items=[item]).outcomes[0]
        assert outcome.status == "created", outcome.errors
        assert outcome.response_id is not None
        return Case.objects.select_related("owner", "team__lead", "response__customer").get(
            response_id=outcome.response_id
        )

    return ingest_case


def set_profile(user, **changes: Any) -> None:
    """Change an agent's own settings as the settings page does; the rest keep their defaults."""
    agent_profile_update(user=user, **{"is_away": False, "assignment_emails": True, "digest_emails": True, **changes})


def shown(moment: datetime) -> str:
    """A time as the email templates print it."""
    return date_format(timezone.localtime(moment), NOTIFY_DATE)


def test_routing_sends_the_owner_an_assignment_email(mailbox, ingest_case):
    case = ingest_case(5, comment="The VPN token took a week to reset")

    [received] = mailbox.received
    assert received.recipients == [case.owner.email]
    assert received.message["From"] == settings.DEFAULT_FROM_EMAIL
    assert received.subject == f"Case {case.pk} is yours: score 5 from {case.response.customer.external_id}"
    body = received.body
    assert "Score: 5 (Normal priority)" in body
    assert "Comment: The VPN token took a week to reset" in body
    assert f"First contact due: {shown(case.first_contact_due)}" in body
    assert f"Resolution due: {shown(case.resolution_due)}" in body
    assert f"{settings.SITE_URL}/cases/{case.pk}/" in body
    row = Notification.objects.get(case=case)
    assert (row.kind, row.status, row.attempts, row.recipient) == ("case_assigned", "sent", 1, case.owner)


def test_a_hot_case_alerts_the_team_lead_at_once(mailbox, ingest_case, lena):
    case = ingest_case(1, comment="Nobody called back")

    [alert] = mailbox.to(lena.email)
    assert alert.subject == f"Hot case {case.pk}: score 1 from {case.response.customer.external_id}"
    assert f"Owner: {case.owner.username}" in alert.body
    assert "Comment: Nobody called back" in alert.body
    assert f"First contact due: {shown(case.first_contact_due)}" in alert.body
    assert len(mailbox.to(case.owner.email)) == 1  # the owner's assignment email, not an alert


def test_alarming_words_make_a_case_hot_whatever_the_score(mailbox, ingest_case, lena):
    case = ingest_case(6, comment="Fix this or we cancel the contract")

    assert case.priority == "hot"
    assert [m.subject for m in mailbox.to(lena.email)] == [f"Hot case {case.pk}: score 6 from {case.response.customer}"]


def test_the_overdue_sweep_emails_owner_and_lead_once_per_breach(mailbox, ingest_case, lena):
    case = ingest_case(5)
    owner = case.owner
    due = case.first_contact_due

    # Several sweeps after the deadline, all before the case would move up to the lead.
    for minutes in (1, 30, 90, 240):
        now = due + timedelta(minutes=minutes)
        escalation_sweep(now=now)
        notifications_deliver(now=now)

    subject = f"Overdue: case {case.pk} missed its first-contact deadline"
    assert [m.subject for m in mailbox.to(lena.email)] == [subject]
    assert [m.subject for m in mailbox.to(owner.email)] == [
        f"Case {case.pk} is yours: score 5 from {case.response.customer}",
        subject,
    ]
    assert f"deadline of {shown(due)}" in mailbox.to(lena.email)[0].body
    assert f"Owner: {owner.username}" in mailbox.to(lena.email)[0].body
    assert case.events.filter(kind=CaseEvent.Kind.BREACHED).count() == 1
    case.refresh_from_db()
    assert (case.owner, case.escalation_level, case.first_contact_breached_at) == (owner, 1, due + timedelta(minutes=1))


def test_level_two_moves_the_case_to_the_lead_and_emails_them(mailbox, ingest_case, lena):
    case = ingest_case(5, comment="Still broken")
    owner = case.owner
    escalation_sweep(now=case.first_contact_due + timedelta(minutes=1))
    case.refresh_from_db()
    later = case.reassign_at + timedelta(minutes=1)

    escalation_sweep(now=later)
    escalation_sweep(now=later + timedelta(hours=1))
    notifications_deliver(now=later + timedelta(hours=1))

    case.refresh_from_db()
    assert (case.owner, case.escalation_level, case.escalated_at) == (lena, 2, later)
    escalated = [m for m in mailbox.to(lena.email) if m.subject.startswith("Escalated")]
    assert [m.subject for m in escalated] == [f"Escalated to you: case {case.pk} is overdue"]
    assert "Comment: Still broken" in escalated[0].body
    assert not [m for m in mailbox.to(owner.email) if m.subject.startswith("Escalated")]
    [moved] = case.events.filter(kind=CaseEvent.Kind.ASSIGNED, details__by="escalation")
    assert moved.details == {"from": owner.username, "to": "lena", "by": "escalation"}
    assert case.events.filter(kind=CaseEvent.Kind.ESCALATED).count() == 1


def test_the_digest_lists_open_cases_overdue_first_once_a_day(mailbox, ingest_case, alice, bob):
    set_profile(bob, is_away=True)  # every case goes to alice
    waiting = ingest_case(6, comment="Printer jams")
    normal = ingest_case(5, comment="Slow laptop")
    hot = ingest_case(2, comment="Lost my files")
    resolved = ingest_case(4, comment="Fixed already")
    for status in ("contacted", "waiting_on_customer"):
        case_transition(case=waiting, to_status=status, actor=alice)
    for status in ("contacted", "resolved"):
        case_transition(case=resolved, to_status=status, actor=alice)
    now = hot.first_contact_due + timedelta(minutes=1)
    assert now < normal.first_contact_due  # only the hot case is overdue
    mailbox.received.clear()

    assert digests_send(now=now) == 1  # alice; bob and lena have no open cases
    assert digests_send(now=now) == 0
    notifications_deliver(now=now)

    [digest] = mailbox.received
    assert digest.recipients == [alice.email]
    day = timezone.localdate(now).isoformat()
    assert digest.subject == f"Your follow-ups for {day}: 3 open, 1 overdue"
    lines = [line for line in digest.body.splitlines() if line.startswith("- Case ")]
    assert [line.split(":")[0] for line in lines] == [f"- Case {c.pk}" for c in (hot, normal, waiting)]
    assert f"OVERDUE since {shown(hot.first_contact_due)}" in lines[0]
    assert f"due {shown(normal.first_contact_due)}" in lines[1]
    assert "(paused)" in lines[2]
    assert "Lost my files" in digest.body
    assert f"Case {resolved.pk}" not in digest.body


@override_settings(TIME_ZONE="America/New_York")
def test_the_digest_day_is_the_local_date(mailbox, ingest_case):
    ingest_case(5)
    tomorrow = timezone.localdate() + timedelta(days=1)
    zone = timezone.get_default_timezone()
    evening = datetime.combine(tomorrow, time(21, 30), tzinfo=zone)  # already the next day in UTC
    late = datetime.combine(tomorrow, time(23, 50), tzinfo=zone)
    next_morning = datetime.combine(tomorrow + timedelta(days=1), time(0, 10), tzinfo=zone)
    assert evening.astimezone(UTC).date() != tomorrow

    sent = [digests_send(now=moment) for moment in (evening, late, next_morning)]

    assert sent == [1, 0, 1]
    notifications_deliver(now=next_morning)
    subjects = [m.subject for m in mailbox.received if m.subject.startswith("Your follow-ups")]
    assert [s.split(":")[0] for s in subjects] == [
        f"Your follow-ups for {tomorrow.isoformat()}",
        f"Your follow-ups for {(tomorrow + timedelta(days=1)).isoformat()}",
    ]


def test_queueing_the_digest_takes_two_queries_however_many_agents(ingest_case, django_assert_num_queries):
    for score in (5, 6, 5, 6, 4):
        ingest_case(score)

    # The agents due a digest, then one insert into the outbox: no query per agent (each
    # digest reads its cases when it is sent).
    with django_assert_num_queries(2):
        assert digests_send() == 2


def test_agents_who_turned_the_digest_off_get_none(mailbox, ingest_case, alice, bob):
    ingest_case(5)
    ingest_case(5)
    for user in (alice, bob):
        set_profile(user, digest_emails=False)

    assert digests_send() == 0
    assert not Notification.objects.filter(kind=Notification.Kind.DIGEST).exists()


def test_a_digest_queued_before_the_agent_turned_it_off_is_not_sent(mailbox, ingest_case, alice, bob):
    set_profile(bob, is_away=True)  # every case goes to alice
    case = ingest_case(5)
    mailbox.received.clear()
    assert digests_send(now=case.created_at) == 1
    set_profile(alice, digest_emails=False)

    assert notifications_deliver(now=case.created_at) == 0
    assert mailbox.received == []
    digest = Notification.objects.get(kind=Notification.Kind.DIGEST)
    assert (digest.status, digest.suppressed_reason) == ("suppressed", "turned_off")


def test_an_agent_who_turned_assignment_emails_off_gets_none(mailbox, ingest_case, alice, bob, lena):
    set_profile(alice, is_away=True)
    set_profile(bob, assignment_emails=False)

    normal = ingest_case(5)
    hot = ingest_case(1)

    assert normal.owner == hot.owner == bob
    assert mailbox.to(bob.email) == []
    assert not Notification.objects.filter(recipient=bob).exists()
    assert [m.subject.split(":")[0] for m in mailbox.to(lena.email)] == [f"Hot case {hot.pk}"]


def test_an_unreachable_server_leaves_emails_pending_then_failed(ingest_case):
    with smtp_server_down():
        case = ingest_case(5)
        row = Notification.objects.get(case=case)
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.last_error.startswith("ConnectionRefusedError")
        first_wait = EMAIL_RETRIES.delays[0]
        assert row.created_at + first_wait <= row.next_attempt_at <= row.created_at + first_wait * 1.5
        _retry_until_given_up(row)

    with smtp_server() as mailbox:
        assert notifications_deliver(now=row.created_at + timedelta(days=1)) == 0
        assert mailbox.received == []


def test_a_server_refusing_the_recipient_leaves_emails_pending_then_failed(mailbox, ingest_case):
    mailbox.refuse_recipients = True
    case = ingest_case(5)

    row = Notification.objects.get(case=case)
    assert (row.status, row.attempts, row.sent_at) == ("pending", 1, None)
    assert row.last_error.startswith("SMTPRecipientsRefused")
    assert "Mailbox unavailable" in row.last_error
    # Tried once right after commit; the next attempt waits for the first delay.
    first_wait = EMAIL_RETRIES.delays[0]
    assert row.created_at + first_wait <= row.next_attempt_at <= row.created_at + first_wait * 1.5
    _retry_until_given_up(row)
    assert mailbox.received == []


def _retry_until_given_up(row: Notification) -> None:
    """Deliver at each retry time: the row stays pending through every delay, then fails."""
    for attempt in range(2, len(EMAIL_RETRIES.delays) + 2):
        early = row.next_attempt_at - timedelta(seconds=1)
        assert notifications_deliver(now=early) == 0
        row.refresh_from_db()
        assert row.attempts == attempt - 1  # not tried before its time
        now = row.next_attempt_at
        assert notifications_deliver(now=now) == 0
        row.refresh_from_db()
        assert row.attempts == attempt
        if attempt <= len(EMAIL_RETRIES.delays):
            assert (row.status, row.next_attempt_at) == ("pending", now + EMAIL_RETRIES.delays[attempt - 1])
    assert (row.status, row.attempts, row.sent_at) == ("failed", len(EMAIL_RETRIES.delays) + 1, None)
    assert row.last_error
    assert notifications_deliver(now=row.next_attempt_at + timedelta(days=1)) == 0
    row.refresh_from_db()
    assert row.attempts == len(EMAIL_RETRIES.delays) + 1


def test_customer_text_is_shortened_and_sent_as_typed(mailbox, ingest_case, lena):
    comment = "<b>Angry</b> <script>alert(1)</script>\r\nBcc: eve@example.com\r\n\r\n" + "very long " * 490
    case = ingest_case(1, comment=comment)

    assert sorted(m.recipients[0] for m in mailbox.received) == sorted([case.owner.email, lena.email])
    for received in mailbox.received:
        assert len(received.recipients) == 1
        assert "Bcc" not in received.message
        assert (received.message.get_content_type(), received.message.is_multipart()) == ("text/plain", False)
        body = received.body
        # A plain-text email: the markup is shown as typed, never rendered; the rest is cut short.
        start = body.index("Comment: <b>Angry</b> <script>alert(1)</script>\nBcc: eve@example.com\n\nvery long")
        quoted = body[start + len("Comment: ") : body.index("…", start) + 1]
        assert 450 < len(quoted) <= 500
        as_typed = comment.replace("\r\n", "\n")
        assert as_typed.startswith(quoted.removesuffix("…"))
        assert as_typed not in body
    assert mailbox.to("eve@example.com") == []


@pytest.mark.parametrize("line_break", ["\r\n", "\r", "\n"])
def test_a_customer_name_cannot_break_the_subject_or_the_body(mailbox, ingest_case, lena, line_break):
    case = ingest_case(1, name=f"Eve{line_break}Bcc: eve@example.com")

    assert sorted(m.recipients for m in mailbox.received) == sorted([[case.owner.email], [lena.email]])
    for received in mailbox.received:
        assert "Bcc" not in received.message
        assert received.subject.endswith("from Eve Bcc: eve@example.com")
        assert received.body.startswith("Hello ")
    assert mailbox.to("eve@example.com") == []
