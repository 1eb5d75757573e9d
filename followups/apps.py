from __future__ import annotations

from django.apps import AppConfig


class FollowupsConfig(AppConfig):
    name = "followups"
    verbose_name = "Follow-ups and root causes"

    def ready(self) -> None:
        from followups.receivers import code_imported_tags, open_cases_for_ingested
        from surveys.signals import responses_ingested, responses_tagged

        responses_ingested.connect(open_cases_for_ingested, dispatch_uid="followups.open_cases")
        responses_tagged.connect(code_imported_tags, dispatch_uid="followups.code_imported_tags")
