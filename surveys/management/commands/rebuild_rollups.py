"""manage.py rebuild_rollups: recompute the dashboard's daily score rollup from the responses."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from surveys.services.rollups import rollups_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the daily score counts the dashboard reads from every stored response "
        "(after restoring a backup or changing TIME_ZONE). Safe to run at any time."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rows = rollups_rebuild()
        self.stdout.write(f"Rebuilt the daily score rollup: {rows} rows.")
