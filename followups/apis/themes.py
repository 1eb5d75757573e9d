"""GET /api/v1/themes/: the root causes of the filtered responses, ranked by what they do to NPS.

Every role that reads responses and NPS reads themes. The figures come from
``followups.selectors.theme_report`` (two queries) and ``followups.themes`` (the arithmetic).
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from closedloop.lib.roles import CanReadResponses
from followups.selectors import theme_report
from followups.themes import Level, Segment


class ThemeRowSerializer(serializers.Serializer):
    root_cause = serializers.SlugField(help_text="The root cause's slug (the category's, with level=category).")
    name = serializers.CharField()
    category = serializers.SlugField(allow_null=True, help_text="The parent category's slug; null for a category.")
    responses = serializers.IntegerField(help_text="Filtered responses coded to it.")
    promoters = serializers.IntegerField()
    passives = serializers.IntegerField()
    detractors = serializers.IntegerField()
    enough = serializers.BooleanField(
        help_text='Whether it has enough responses (30) for its NPS to be worth showing; pages say "too few" when not.'
    )
    nps = serializers.FloatField(help_text="NPS of the responses coded to it, one decimal.")
    nps_margin_of_error = serializers.FloatField(help_text="95 % margin of error of that NPS, in points.")
    nps_impact = serializers.FloatField(
        allow_null=True,
        help_text="Overall NPS minus the NPS of the filtered responses not coded to it: negative when it drags "
        "NPS down. Null when every filtered response is coded to it.",
    )
    detractor_share = serializers.FloatField(
        allow_null=True, help_text="Share (0-1) of all filtered detractors whose response cites it; null if none."
    )
    promoter_share = serializers.FloatField(
        allow_null=True, help_text="Share (0-1) of all filtered promoters whose response cites it; null if none."
    )
    previous_responses = serializers.IntegerField(
        required=False, help_text="With both time bounds: its responses in the period of the same length before."
    )
    previous_enough = serializers.BooleanField(
        required=False, help_text="With both time bounds: whether the previous period has enough responses."
    )
    previous_nps = serializers.FloatField(
        required=False, allow_null=True, help_text="With both time bounds: its NPS in the previous period."
    )
    nps_change = serializers.FloatField(
        required=False, allow_null=True, help_text="With both time bounds: NPS now minus NPS in the previous period."
    )
    change_significant = serializers.BooleanField(
        required=False,
        allow_null=True,
        help_text="With both time bounds: whether the change is significant at 5 % (two-sample z-test); "
        "null without responses in the previous period.",
    )


class ThemeOverallSerializer(serializers.Serializer):
    responses = serializers.IntegerField()
    promoters = serializers.IntegerField()
    passives = serializers.IntegerField()
    detractors = serializers.IntegerField()
    nps = serializers.FloatField(allow_null=True)
    nps_margin_of_error = serializers.FloatField(allow_null=True)
    enough = serializers.BooleanField(help_text="Whether there are enough responses (30) for the NPS to say anything.")


class ThemePreviousPeriodSerializer(serializers.Serializer):
    submitted_after = serializers.DateTimeField(allow_null=True, help_text="Null: open (before year 1).")
    submitted_before = serializers.DateTimeField()
    responses = serializers.IntegerField()
    nps = serializers.FloatField(allow_null=True)


class ThemeReportSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="How many rows: every theme is on this one page.")
    next = serializers.CharField(allow_null=True, help_text="Always null: the report is one page.")
    previous = serializers.CharField(allow_null=True, help_text="Always null: the report is one page.")
    generated_at = serializers.DateTimeField()
    level = serializers.ChoiceField(choices=[level.value for level in Level])
    segment = serializers.ChoiceField(choices=[segment.value for segment in Segment])
    overall = ThemeOverallSerializer(help_text="Every filtered response, coded or not.")
    previous_period = ThemePreviousPeriodSerializer(
        allow_null=True, help_text="With both time bounds: the period of the same length just before."
    )
    results = ThemeRowSerializer(many=True)


class ThemeListApi(APIView):
    permission_classes = [CanReadResponses]

    @extend_schema(
        parameters=[
            OpenApiParameter("survey", str, description="Survey slug."),
            OpenApiParameter("submitted_after", str, description="ISO 8601 time, inclusive."),
            OpenApiParameter("submitted_before", str, description="ISO 8601 time, exclusive."),
            OpenApiParameter("team", str, description="Slug of the team that handled the ticket the response answers."),
            OpenApiParameter("attribute", str, description="A customer attribute, name:value (e.g. plan:gold)."),
            OpenApiParameter(
                "level",
                str,
                enum=[level.value for level in Level],
                description="cause (default), or category: causes rolled up into their category, each "
                "response counted once per category.",
            ),
            OpenApiParameter(
                "segment",
                str,
                enum=[segment.value for segment in Segment],
                description="all (default): ranked by NPS impact, most negative first. promoters: only "
                "promoters' responses counted, ranked by responses, most first (what to keep doing).",
            ),
        ],
        responses=ThemeReportSerializer,
        description="One row per root cause with filtered responses coded to it. Ties go by slug. With both "
        "submitted_after and submitted_before, each row also compares with the period of the same length "
        "just before.",
    )
    def get(self, request: Request) -> ApiResponse:
        report = theme_report(filters=request.query_params)
        # The list shape of every other endpoint, on a single page: a report is a few dozen rows.
        page = {"count": len(report["results"]), "next": None, "previous": None}
        return ApiResponse({**page, **report, "generated_at": timezone.now()})
