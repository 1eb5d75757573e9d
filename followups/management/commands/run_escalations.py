"""One overdue sweep, then exit: for cron, operators, and tests. Safe to run any number of times."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from followups.services.escalation import escalation_run


class Command(BaseCommand):
    help = "Open missing cases, record SLA breaches, escalate overdue cases and announce at-risk ones, once."

    def handle(self, *args, **options) -> None:
        result = escalation_run()
        self.stdout.write(
            f"opened {result.opened} missing cases; "
            f"breaches: {result.first_contact_breaches} first contact, {result.resolution_breaches} resolution; "
            f"moved to a lead: {result.reassigned}; at risk: {result.at_risk}"
        )
