"""manage.py send_relationship_survey: a relationship wave to a sample of the customers who may be asked."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from closedloop.lib.exceptions import ApplicationError
from surveys.models import Survey
from surveys.services.waves import parse_segments, relationship_wave_send


class Command(BaseCommand):
    help = (
        "Invite the customers who may be asked now (survey fatigue, opt-outs and exclusions applied) to a "
        "relationship survey: all of them, or a random sample, with their emails spread over a sending window."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--survey", required=True, help="Slug of the survey.")
        parser.add_argument("--sample", type=int, help="Invite at most this many, chosen at random.")
        parser.add_argument(
            "--segment", action="append", default=[], metavar="ATTR=VALUE", help="Only customers with this attribute."
        )
        parser.add_argument("--window-hours", type=int, default=24, help="Spread the sending over this many hours.")

    def handle(self, *args, survey: str, sample: int | None, segment: list[str], window_hours: int, **options) -> None:
        found = Survey.objects.filter(slug=survey).first()
        if found is None:
            raise CommandError(f"No survey {survey!r}.")
        try:
            plan = relationship_wave_send(
                survey=found, segments=parse_segments(segment), sample=sample, window_hours=window_hours
            )
        except ApplicationError as exc:
            details = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in (exc.errors or {}).items())
            raise CommandError(f"{exc.message} {details}".strip()) from exc
        wave = plan.wave
        self.stdout.write(
            f"wave {wave.pk}: {wave.matched} customers matched, {wave.eligible} eligible, "
            f"{plan.scheduled} scheduled over {window_hours} hours"
        )
        for reason, count in sorted(plan.suppressed.items()):
            self.stdout.write(f"  suppressed ({reason}): {count}")
