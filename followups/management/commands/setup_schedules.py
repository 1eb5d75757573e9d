"""Declare the task cluster's schedules in code; run on every deploy (idempotent, by name).

Q_CLUSTER sets catch_up=False, so a restart after an outage runs each sweep once rather
than once per missed slot.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone
from django_q.models import Schedule

DIGEST_AT = time(7, 0)

# name -> (task, schedule type, minutes). The deliveries also run on every change that queues
# a message; the schedule takes what a crashed run had claimed once its lease ends (under a
# minute), and the retries whose delay has passed.
SCHEDULES = {
    "escalation sweep": ("followups.tasks.escalation_sweep", Schedule.MINUTES, 5),
    "staff email delivery": ("followups.tasks.notifications_deliver", Schedule.MINUTES, 1),
    "customer update delivery": ("followups.tasks.customer_updates_deliver", Schedule.MINUTES, 1),
    "webhook delivery": ("followups.tasks.webhooks_deliver", Schedule.MINUTES, 1),
    "survey invitation delivery": ("followups.tasks.invitations_deliver", Schedule.MINUTES, 1),
    "survey reminders": ("followups.tasks.invitations_remind", Schedule.HOURLY, None),
    "improvement check-ins": ("followups.tasks.improvement_checkins_send", Schedule.HOURLY, None),
    "daily digest": ("followups.tasks.digests_send", Schedule.DAILY, None),
    # Monday mornings: the week before, for every manager (once per week, whatever reruns).
    "weekly manager digest": ("followups.tasks.manager_digests_send", Schedule.WEEKLY, None),
    "customer retention": ("followups.tasks.customers_retention_sweep", Schedule.DAILY, None),
    # The day's new codes teach the classifier by the next morning.
    "suggestion training": ("followups.tasks.suggestions_train", Schedule.DAILY, None),
    # A no-op whose stored result tells /healthz the cluster is alive (closedloop.lib.health).
    "cluster heartbeat": ("closedloop.lib.health.cluster_heartbeat", Schedule.MINUTES, 1),
}


def _first_run(schedule_type: str) -> datetime:
    now = timezone.localtime()
    if schedule_type == Schedule.WEEKLY:
        monday = now.date() - timedelta(days=now.weekday())
        at = timezone.make_aware(datetime.combine(monday, DIGEST_AT))
        return at if at > now else at + timedelta(days=7)
    if schedule_type != Schedule.DAILY:
        return now
    at = timezone.make_aware(datetime.combine(now.date(), DIGEST_AT))
    return at if at > now else at + timedelta(days=1)


class Command(BaseCommand):
    help = (
        "Create or update the periodic tasks (escalation sweep, deliveries, daily and weekly digests, "
        "suggestion training, "
        "cluster heartbeat)."
    )

    def handle(self, *args, **options) -> None:
        for name, (func, schedule_type, minutes) in SCHEDULES.items():
            schedule, created = Schedule.objects.update_or_create(
                name=name, defaults={"func": func, "schedule_type": schedule_type, "minutes": minutes, "repeats": -1}
            )
            if created:
                schedule.next_run = _first_run(schedule_type)
                schedule.save(update_fields=["next_run"])
            self.stdout.write(f"{'created' if created else 'kept'} schedule {name!r}")
