"""The weekly digest to each manager: NPS and its change, new and rising themes, overdue cases,
improvements shipped (``followups.digest_selectors``), one email per manager and week.

Set-based like the agents' daily digest: one query picks the managers due this week's digest
and their emails go into the outbox together, rendered when each is sent.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from closedloop.lib.roles import MANAGER
from followups.models import Notification
from followups.notifications import manager_digest_email
from followups.services.outbox import notifications_queue
from followups.weekly_digest import DigestWeek

UserModel = get_user_model()


def manager_digests_send(*, now: datetime | None = None) -> int:
    """Queue the digest of the last complete week for every manager who wants it; return how many.

    The week is the one before ``now``'s local date (settings.TIME_ZONE). A manager already sent
    that week's digest is skipped, and the dedupe key keeps two runs at once from queueing it twice.
    """
    now = now or timezone.now()
    week = DigestWeek.before(timezone.localdate(now, timezone.get_default_timezone()))
    managers = list(_managers_due_a_digest(week))
    if not managers:
        return 0
    notifications_queue([manager_digest_email(manager, week, now) for manager in managers])
    return len(managers)


def _managers_due_a_digest(week: DigestWeek) -> QuerySet[User]:
    """Active managers with an email, the weekly digest on (the default), not yet sent this week's."""
    in_role = UserModel.groups.through.objects.filter(user_id=OuterRef("pk"), group__name=MANAGER)
    sent = Notification.objects.filter(
        recipient_id=OuterRef("pk"), kind=Notification.Kind.MANAGER_DIGEST, context__week=week.label
    )
    return (
        UserModel.objects.filter(Exists(in_role), ~Exists(sent), is_active=True)
        .exclude(email="")
        .filter(Q(agent_profile__isnull=True) | Q(agent_profile__manager_digest_emails=True))
        .order_by("pk")
    )
