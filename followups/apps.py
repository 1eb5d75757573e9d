from __future__ import annotations

from django.apps import AppConfig


class FollowupsConfig(AppConfig):
    name = "followups"
    verbose_name = "Follow-ups and root causes"

    def ready(self) -> None:
        from followups.receivers import (
            code_customer_topic,
            code_imported_tags,
            offer_root_cause_categories,
            open_cases_for_ingested,
        )
        from surveys.signals import response_topic_chosen, responses_ingested, responses_tagged, survey_topics

        responses_ingested.connect(open_cases_for_ingested, dispatch_uid="followups.open_cases")
        responses_tagged.connect(code_imported_tags, dispatch_uid="followups.code_imported_tags")
        survey_topics.connect(offer_root_cause_categories, dispatch_uid="followups.offer_root_cause_categories")
        response_topic_chosen.connect(code_customer_topic, dispatch_uid="followups.code_customer_topic")
