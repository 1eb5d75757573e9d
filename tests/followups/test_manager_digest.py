"""The managers' weekly digest end to end: who gets it, once per week, what it says (over real SMTP,
text and HTML), its opt-out on the settings page and its own stop link, and its schedule.

The week: Monday 2026-11-23 to Sunday 2026-11-29 (2026-W48), sent on Monday 2026-11-30; the week
before is 2026-W47. Time zone: the test settings' (UTC).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from followups.models import AgentProfile, Case, Notification, ResponseRootCause
from followups.services.delivery import notifications_deliver
from followups.services.improvements import improvement_create
from followups.services.manager_digests import manager_digests_send
from followups.services.opening import cases_open_for_responses
from followups.services.updates import improvement_ship
from followups.weekly_digest import stop_token
from surveys.nps import NpsSummary, compare
from tests.factories import make_response, make_user
from tests.followups.smtp import Mailbox, smtp_server

pytestmark = pytest.mark.django_db

SEND = datetime(2026, 11, 30, 7, tzinfo=UTC)
WEEK = datetime(2026, 11, 24, 10, tzinfo=UTC)  # a Tuesday of 2026-W48
WEEK_BEFORE = datetime(2026, 11, 17, 10, tzinfo=UTC)  # a Tuesday of 2026-W47


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as mailbox:
        yield mailbox


@pytest.fixture
def mia(db):
    return make_user("mia", "manager", email="mia@example.com")


@pytest.fixture
def noel(db):
    return make_user("noel", "manager", email="noel@example.com")


# Who gets it


def test_every_manager_gets_one_digest_a_week_however_often_it_runs(mia, noel, alice):
    assert manager_digests_send(now=SEND) == 2  # mia and noel; alice is an agent
    assert manager_digests_send(now=SEND) == 0
    assert manager_digests_send(now=SEND + timedelta(days=3)) == 0  # later in the same week: the same digest
    assert manager_digests_send(now=SEND + timedelta(days=7)) == 2  # the next week's
    keys = sorted(Notification.objects.filter(kind="manager_digest").values_list("dedupe_key", flat=True))
    assert keys == [
        f"manager-digest:{mia.pk}:2026-W48",
        f"manager-digest:{mia.pk}:2026-W49",
        f"manager-digest:{noel.pk}:2026-W48",
        f"manager-digest:{noel.pk}:2026-W49",
    ]


def test_managers_who_turned_it_off_or_have_no_address_get_none(mia, noel):
    AgentProfile.objects.create(user=mia, manager_digest_emails=False)
    noel.email = ""
    noel.save()
    assert manager_digests_send(now=SEND) == 0


def test_queueing_takes_two_queries_however_many_managers(mia, noel, django_assert_num_queries):
    for n in range(5):
        make_user(f"manager{n}", "manager", email=f"m{n}@example.com")
    with django_assert_num_queries(2):
        assert manager_digests_send(now=SEND) == 7


# What it says


def _text(mail) -> str:
    return mail.message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


# Thirty uncoded answers a week on top of the coded ones, so that both weeks have enough to say
# their NPS: six each of these scores.
FILLER = (10, 9, 8, 6, 10), (10, 8, 7, 5, 2)


def _filler(scores: tuple[int, ...], at: datetime) -> None:
    for score in scores * 6:
        make_response(score, submitted_at=at)


@pytest.fixture
def week_of_data(desk, taxonomy, mia):
    """W47: 22 promoters, 6 passives, 8 detractors. W48: 8 promoters, 13 passives, 16 detractors,
    new and rising themes. One case overdue now, one improvement shipped in W48 and one the week before."""
    _filler(FILLER[0], WEEK_BEFORE)
    _filler(FILLER[1], WEEK)
    for score in (10, 9, 10, 9, 3):
        make_response(score, submitted_at=WEEK_BEFORE)
    slow = make_response(2, submitted_at=WEEK_BEFORE, comment="slow")
    ResponseRootCause.objects.create(response=slow, root_cause=taxonomy["slow-response"])
    week = [
        make_response(score, submitted_at=WEEK + timedelta(hours=n), comment="<b>bold</b>")
        for n, score in enumerate((10, 9, 8, 2, 3, 4, 1))
    ]
    for response in week[3:5]:
        ResponseRootCause.objects.create(response=response, root_cause=taxonomy["slow-response"])
    ResponseRootCause.objects.create(response=week[5], root_cause=taxonomy["vpn-access"])
    case = cases_open_for_responses(response_ids=[week[6].pk], now=WEEK)[0]
    Case.objects.filter(pk=case.pk).update(next_due=SEND - timedelta(hours=2))
    shipped = improvement_create(title="Faster <VPN> client", actor=mia, now=WEEK_BEFORE)
    improvement_ship(improvement=shipped, actor=mia, now=WEEK)
    old = improvement_create(title="Old fix", actor=mia, now=WEEK_BEFORE - timedelta(days=7))
    improvement_ship(improvement=old, actor=mia, now=WEEK_BEFORE)
    return case


def test_the_digest_says_the_weeks_nps_change_themes_overdue_cases_and_shipped_improvements(mailbox, mia, week_of_data):
    assert manager_digests_send(now=SEND) == 1
    notifications_deliver(now=SEND)  # the case's assignment email goes too
    [mail] = mailbox.to("mia@example.com")
    current, previous = NpsSummary(8, 13, 16), NpsSummary(22, 6, 8)
    change = compare(current, previous)
    assert change is not None
    # Django folds a non-ASCII subject right after "Subject:", which reads back with a leading space.
    assert mail.subject.strip() == (
        f"Week 2026-W48: NPS {current.nps:.0f} ± {current.margin_of_error:.0f}, 1 case overdue, 1 improvement shipped"
    )
    text = _text(mail)
    assert f"NPS {current.nps:.1f} ± {current.margin_of_error:.1f} from 37 responses (8 promoters, 13 passives" in text
    verdict = "a significant change" if change.significant else "within the noise (not significant)"
    margin = f"{previous.margin_of_error:.1f}"
    assert f"({previous.nps:.1f} ± {margin}, 36 responses): {change.difference:.1f} points, {verdict}." in text
    new = text[text.index("New themes") : text.index("Rising themes")]
    rising = text[text.index("Rising themes") : text.index("Overdue cases")]
    # One response is too few for an NPS, as on the dashboard.
    assert "- VPN and remote access: 1 response, too few to say its NPS" in new
    assert "-100" not in new
    assert "Slow first response: 2 responses, up from 1" in rising
    assert f"Case {week_of_data.pk}: score 1" in text
    assert "Faster <VPN> client" in text
    assert "Old fix" not in text
    assert "/me/digest/stop/" in text
    html = mail.message.get_body(preferencelist=("html",)).get_content()
    assert "Faster &lt;VPN&gt; client" in html
    assert "<VPN>" not in html
    assert f'/cases/{week_of_data.pk}/"' in html
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/me/digest/stop/" in mail.message["List-Unsubscribe"]


def test_a_week_of_a_few_answers_shows_no_nps_and_judges_no_change(mailbox, mia, survey):
    _filler(FILLER[0], WEEK_BEFORE)
    for score in (10, 10, 2):
        make_response(score, submitted_at=WEEK)
    manager_digests_send(now=SEND)
    notifications_deliver(now=SEND)
    [mail] = mailbox.to("mia@example.com")
    assert mail.subject == "Week 2026-W48: NPS too few responses to say (3), 0 cases overdue, 0 improvements shipped"
    text = _text(mail)
    nps = text[text.index("NPS\n") : text.index("New themes")]
    assert "NPS: too few responses to say (3: 2 promoters, 0 passives, 1 detractors)." in nps
    assert "No change to judge: this week had too few responses (3)." in nps
    assert "±" not in nps and "33" not in nps  # no NPS of 33.3 from three answers
    html = mail.message.get_body(preferencelist=("html",)).get_content()
    assert "<h1>NPS: too few responses to say</h1>" in html
    assert "No change to judge: this week had too few responses (3)." in html


def test_a_quiet_week_says_there_is_nothing_to_judge(mailbox, mia):
    manager_digests_send(now=SEND)
    notifications_deliver(now=SEND)
    [mail] = mailbox.to("mia@example.com")
    assert mail.subject == "Week 2026-W48: NPS none (no responses), 0 cases overdue, 0 improvements shipped"
    assert "No change to judge: this week had no responses." in _text(mail)


# Opting out


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_managers_turn_the_digest_off_on_their_settings_page(mia):
    client = _signed_in(mia)
    page = client.get(reverse("agent-settings"))
    assert "Send me the weekly digest" in page.content.decode()
    fields = {"is_away": "", "assignment_emails": "on", "digest_emails": "on"}
    client.post(reverse("agent-settings"), fields)
    assert AgentProfile.objects.get(user=mia).manager_digest_emails is False
    assert manager_digests_send(now=SEND) == 0
    client.post(reverse("agent-settings"), {**fields, "manager_digest_emails": "on"})
    assert AgentProfile.objects.get(user=mia).manager_digest_emails is True


def test_agents_are_not_offered_it_and_keep_it_as_it_was(alice):
    client = _signed_in(alice)
    assert "weekly digest" not in client.get(reverse("agent-settings")).content.decode()
    client.post(reverse("agent-settings"), {"assignment_emails": "on"})
    assert AgentProfile.objects.get(user=alice).manager_digest_emails is True


def test_the_stop_link_asks_then_turns_it_off_without_signing_in(mia):
    url = reverse("manager-digest-stop", args=[stop_token(mia.pk)])
    assert "Stop the weekly digest?" in Client().get(url).content.decode()
    done = Client().post(url)  # one click, as RFC 8058 mail clients post: no CSRF token, no session
    assert "The weekly digest is off" in done.content.decode()
    assert AgentProfile.objects.get(user=mia).manager_digest_emails is False
    assert "already off" in Client().get(url).content.decode()
    assert manager_digests_send(now=SEND) == 0
    # The other emails stay on.
    assert AgentProfile.objects.get(user=mia).digest_emails is True


def test_a_tampered_stop_link_changes_nothing(mia):
    page = Client().post(reverse("manager-digest-stop", args=[stop_token(mia.pk)[:-2] + "zz"]))
    assert page.status_code == 400
    assert not AgentProfile.objects.filter(user=mia).exists()


def test_the_weekly_schedule_runs_on_monday_mornings(db):
    call_command("setup_schedules", stdout=open("/dev/null", "w"))  # noqa: SIM115
    schedule = Schedule.objects.get(name="weekly manager digest")
    assert schedule.func == "followups.tasks.manager_digests_send"
    assert schedule.schedule_type == Schedule.WEEKLY
    first = timezone.localtime(schedule.next_run)
    assert first.weekday() == 0 and (first.hour, first.minute) == (7, 0)
    assert first > timezone.now()


def test_the_sign_in_password_is_not_needed_for_the_stop_link(mia):
    # The link works for a signed-out manager; signed in as someone else, it still stops only mia's.
    other = make_user("olaf", "manager", email="olaf@example.com")
    client = _signed_in(other)
    client.post(reverse("manager-digest-stop", args=[stop_token(mia.pk)]))
    assert AgentProfile.objects.get(user=mia).manager_digest_emails is False
    assert not AgentProfile.objects.filter(user=other, manager_digest_emails=False).exists()


def test_the_scheduled_task_queues_and_delivers_through_the_task_cluster(mailbox, mia, time_machine):
    from django_q.tasks import async_task

    time_machine.move_to(SEND)
    async_task("followups.tasks.manager_digests_send")  # the schedule's call, run inline (sync)
    assert Notification.objects.filter(kind="manager_digest", recipient=mia).count() == 1
    async_task("followups.tasks.notifications_deliver")
    assert [mail.subject.strip()[:14] for mail in mailbox.to("mia@example.com")] == ["Week 2026-W48:"]


def test_turning_it_off_after_it_was_queued_stops_that_digest_too(mailbox, mia, noel):
    assert manager_digests_send(now=SEND) == 2
    # The stop link is clicked before delivery runs (or while the server was down and it waited).
    Client().post(reverse("manager-digest-stop", args=[stop_token(mia.pk)]))
    assert notifications_deliver(now=SEND) == 1
    assert mailbox.to("mia@example.com") == []
    assert len(mailbox.to("noel@example.com")) == 1
    digest = Notification.objects.get(recipient=mia)
    assert (digest.status, digest.suppressed_reason, digest.attempts) == ("suppressed", "turned_off", 0)
    # Turning it on again does not bring back the suppressed one: the next week's comes as usual.
    AgentProfile.objects.filter(user=mia).update(manager_digest_emails=True)
    assert notifications_deliver(now=SEND) == 0
    assert manager_digests_send(now=SEND + timedelta(days=7)) == 2


def test_a_manager_deactivated_after_it_was_queued_gets_none(mailbox, mia):
    assert manager_digests_send(now=SEND) == 1
    mia.is_active = False
    mia.save()
    assert notifications_deliver(now=SEND) == 0
    assert mailbox.to("mia@example.com") == []
    assert Notification.objects.get(recipient=mia).suppressed_reason == "inactive"
