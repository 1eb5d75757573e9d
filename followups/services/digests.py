"""The daily digest: each agent's open cases in one email, earliest deadline (overdue) first.

Set-based whatever the number of agents: one query picks the agents who get a digest today and
their emails go into the outbox together; each digest lists the cases as they are when it is sent.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from closedloop.lib.roles import AGENT, MANAGER
from followups.models import Case, Notification
from followups.models.cases import OPEN
from followups.notifications import digest_email
from followups.services.outbox import notifications_queue

UserModel = get_user_model()


def digests_send(*, now: datetime | None = None) -> int:
    """Queue today's digest for every agent with open cases who wants one; return how many.

    "Today" is the local date in settings.TIME_ZONE. An agent already sent today's digest is
    skipped, and the digest's dedupe key keeps two runs at once from queueing it twice.
    """
    now = now or timezone.now()
    day = timezone.localdate(now, timezone.get_default_timezone())
    agents = list(_agents_due_a_digest(day))
    if not agents:
        return 0
    notifications_queue([digest_email(agent, day.isoformat(), now) for agent in agents])
    return len(agents)


def _agents_due_a_digest(day: date) -> QuerySet[User]:
    """Active agents and managers with an email, digests on (the default), open cases, none sent today."""
    tz = timezone.get_default_timezone()
    day_start = datetime.combine(day, time.min, tzinfo=tz)
    in_role = UserModel.groups.through.objects.filter(user_id=OuterRef("pk"), group__name__in=[AGENT, MANAGER])
    has_open_cases = Case.objects.filter(OPEN, owner_id=OuterRef("pk"))
    sent_today = Notification.objects.filter(
        recipient_id=OuterRef("pk"),
        kind=Notification.Kind.DIGEST,
        created_at__gte=day_start,
        created_at__lt=day_start + timedelta(days=1),
    )
    return (
        UserModel.objects.filter(Exists(in_role), Exists(has_open_cases), ~Exists(sent_today), is_active=True)
        .exclude(email="")
        .filter(Q(agent_profile__isnull=True) | Q(agent_profile__digest_emails=True))
        .order_by("pk")
    )
