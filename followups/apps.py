from __future__ import annotations

from django.apps import AppConfig


class FollowupsConfig(AppConfig):
    name = "followups"
    verbose_name = "Follow-ups and root causes"

    def ready(self) -> None:
        from followups.receivers import open_cases_for_ingested
        from surveys.signals import responses_ingested

        responses_ingested.connect(open_cases_for_ingested, dispatch_uid="followups.open_cases")
