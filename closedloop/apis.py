"""API endpoints that join intake with the loops, so they live above both apps.

Responses are ingested by the intake app's service but reported with their follow-up case,
and NPS can be grouped by root cause; ``followups`` depends on ``surveys``, never the reverse,
so these views sit here and compose the two apps' selectors. Users and sign-in are here too.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from django.db.models import F, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from closedloop import throttling
from closedloop.lib.exceptions import ApplicationError
from closedloop.lib.pagination import LargeListPagination, StandardPagination, paginated
from closedloop.lib.roles import ROLES, CanIngest, CanReadResponses, IsManager
from closedloop.selectors import (
    CASE_COLUMNS,
    PERIODS,
    RESPONSE_COLUMNS,
    SEGMENT_SORTS,
    DashboardFilters,
    case_export_rows,
    dashboard_filters,
    nps_report,
    report_loop,
    report_nps_over_time,
    report_segments,
    response_export_rows,
)
from closedloop.users import role_of, user_create, user_list
from followups.apis.themes import ThemeRowSerializer
from followups.selectors import responses_coded_to
from surveys.apis import CustomerInputSerializer
from surveys.models import Channel, Response
from surveys.selectors import response_list
from surveys.services import responses_ingest
from surveys.services.ingestion import MAX_BATCH_BYTES


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField()


class SignInLocked(Throttled):
    """A 429 whose message already says when to retry: DRF's Throttled would append "Expected
    available in N seconds." to it. ``wait`` still becomes the Retry-After header."""

    wait: int | None

    def __init__(self, detail: str, *, wait: int) -> None:
        super().__init__(detail=detail)
        self.wait = wait


class TokenApi(ObtainAuthToken):
    """POST {"username", "password"} -> {"token"}; DELETE revokes the token that signs the request."""

    # ObtainAuthToken names DRF's own JSON parser; sign-ins are read as strictly as any body.
    parser_classes = APIView.parser_classes

    def get_permissions(self) -> list[BasePermission]:
        return [IsAuthenticated()] if self.request.method == "DELETE" else []

    def perform_authentication(self, request: Request) -> None:
        """Only DELETE reads credentials (through its permission); a sign-in carries none."""

    @extend_schema(
        auth=[],
        request=AuthTokenSerializer,
        responses={
            200: TokenOutputSerializer,
            429: OpenApiResponse(description="Too many failed sign-ins for the account or the address."),
        },
        description="Signs in with a password and answers the user's token (the same one until it is revoked).",
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> ApiResponse:
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            # django-axes flags the request when the account or the address is locked out.
            if getattr(request, "axes_locked_out", False):
                raise SignInLocked(throttling.lockout_message(), wait=throttling.lockout_seconds())
            raise ValidationError(serializer.errors)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return ApiResponse({"token": token.key})

    @extend_schema(
        request=None,
        responses={204: None},
        description="Revokes the caller's token; the next sign-in answers a new one.",
    )
    def delete(self, request: Request, *args: Any, **kwargs: Any) -> ApiResponse:
        Token.objects.filter(user=request.user.pk).delete()
        return ApiResponse(status=status.HTTP_204_NO_CONTENT)


class UserOutputSerializer(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.CharField(help_text="Blank when the user has none.")
    role = serializers.SerializerMethodField()

    def get_role(self, user) -> str | None:
        return role_of(user)


class UserInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(write_only=True, max_length=128)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=ROLES)


class UserListCreateApi(APIView):
    permission_classes = [IsManager]
    pagination_class = StandardPagination

    @extend_schema(responses=UserOutputSerializer(many=True))
    def get(self, request: Request) -> ApiResponse:
        return paginated(request, user_list(), UserOutputSerializer, view=self)

    @extend_schema(request=UserInputSerializer, responses={201: UserOutputSerializer})
    def post(self, request: Request) -> ApiResponse:
        serializer = UserInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_create(**serializer.validated_data)
        return ApiResponse(UserOutputSerializer(user_list().get(pk=user.pk)).data, status=status.HTTP_201_CREATED)


class ResponseInputSerializer(serializers.Serializer):
    """Documents the ingestion body; ``surveys.intake`` does the validation for every path."""

    survey = serializers.SlugField()
    customer = CustomerInputSerializer()
    score = serializers.IntegerField(min_value=0, max_value=10)
    comment = serializers.CharField(required=False, max_length=5000, allow_blank=True)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    submitted_at = serializers.DateTimeField(required=False)
    external_id = serializers.CharField(required=False, max_length=200)
    ticket_ref = serializers.CharField(required=False, max_length=100)


class ResponseCustomerSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    email = serializers.CharField(help_text="Blank when unknown.")
    name = serializers.CharField()
    attributes = serializers.DictField()


class ResponseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    survey = serializers.CharField(source="survey.slug")
    customer = serializers.SerializerMethodField()
    score = serializers.IntegerField()
    category = serializers.CharField()
    comment = serializers.CharField()
    channel = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    received_at = serializers.DateTimeField()
    external_id = serializers.CharField(allow_null=True)
    ticket_ref = serializers.CharField()
    contact_preference = serializers.CharField(help_text="contact | no_contact | empty: what the customer asked.")
    case = serializers.IntegerField(source="case_id", allow_null=True, default=None)

    @extend_schema_field(ResponseCustomerSerializer)
    def get_customer(self, response: Response) -> dict[str, Any]:
        customer = response.customer
        return {
            "external_id": customer.external_id,
            "email": customer.email,
            "name": customer.name,
            "attributes": customer.attributes,
        }


def _with_case(responses: QuerySet[Response]) -> QuerySet[Response]:
    """Each response with the id of its follow-up case (null when it needs none)."""
    return responses.annotate(case_id=F("case__id"))


def _response_output(response_id: int) -> dict[str, Any]:
    return ResponseOutputSerializer(_with_case(response_list()).get(pk=response_id)).data


class ResponseListIngestApi(APIView):
    pagination_class = LargeListPagination

    def get_permissions(self):
        return [CanIngest()] if self.request.method == "POST" else [CanReadResponses()]

    @extend_schema(
        parameters=[
            OpenApiParameter("survey", str),
            OpenApiParameter("category", str, enum=["promoter", "passive", "detractor"]),
            OpenApiParameter("customer", str, description="Customer external id."),
            OpenApiParameter("submitted_after", str, description="ISO 8601 time, inclusive."),
            OpenApiParameter("submitted_before", str, description="ISO 8601 time, exclusive."),
            OpenApiParameter("root_cause", str, description="Root-cause slug."),
        ],
        responses=ResponseOutputSerializer(many=True),
    )
    def get(self, request: Request) -> ApiResponse:
        responses = _with_case(response_list(filters=request.query_params))
        if request.query_params.get("root_cause"):
            responses = responses_coded_to(responses, request.query_params["root_cause"])
        return paginated(request, responses, ResponseOutputSerializer, view=self)

    @extend_schema(
        request=ResponseInputSerializer,
        responses={201: ResponseOutputSerializer, 200: ResponseOutputSerializer},
        description="Stores one response. Replaying an external_id answers 200 with the stored one.",
    )
    def post(self, request: Request) -> ApiResponse:
        outcome = responses_ingest(items=[request.data]).outcomes[0]
        if outcome.response_id is None:  # rejected: only stored responses have an id
            raise ApplicationError("Invalid response.", errors=outcome.errors)
        code = status.HTTP_201_CREATED if outcome.status == "created" else status.HTTP_200_OK
        return ApiResponse(_response_output(outcome.response_id), status=code)


class ResponseBulkIngestApi(APIView):
    permission_classes = [CanIngest]
    # A full batch is far larger than the site-wide body limit (BodySizeLimitMiddleware).
    max_body_bytes = MAX_BATCH_BYTES

    @extend_schema(
        request=inline_serializer("BulkIngestInput", {"responses": ResponseInputSerializer(many=True)}),
        responses=inline_serializer(
            "BulkIngestResult",
            {
                "created": serializers.IntegerField(),
                "duplicates": serializers.IntegerField(),
                "rejected": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def post(self, request: Request) -> ApiResponse:
        items = request.data.get("responses") if isinstance(request.data, dict) else None
        if not isinstance(items, list):
            raise ApplicationError("Invalid body.", errors={"responses": ["Expected a list of responses."]})
        result = responses_ingest(items=items)
        return ApiResponse(
            {
                "created": result.count("created"),
                "duplicates": result.count("duplicate"),
                "rejected": [{"index": index, "errors": errors} for index, errors in result.rejected],
            }
        )


class NpsApi(APIView):
    permission_classes = [CanReadResponses]

    @extend_schema(
        parameters=[
            OpenApiParameter("survey", str),
            OpenApiParameter("submitted_after", str),
            OpenApiParameter("submitted_before", str),
            OpenApiParameter(
                "group_by", str, description="day | week | month | quarter | attribute:<name> | root_cause"
            ),
        ],
        responses=inline_serializer(
            "NpsResult",
            {
                "generated_at": serializers.DateTimeField(),
                "results": inline_serializer(
                    "NpsRow",
                    {
                        "group": serializers.CharField(allow_null=True),
                        "responses": serializers.IntegerField(),
                        "promoters": serializers.IntegerField(),
                        "passives": serializers.IntegerField(),
                        "detractors": serializers.IntegerField(),
                        "nps": serializers.FloatField(allow_null=True),
                        "margin_of_error": serializers.FloatField(allow_null=True),
                        "change": inline_serializer(
                            "NpsChange",
                            {
                                "from": serializers.CharField(),
                                "difference": serializers.FloatField(),
                                "p_value": serializers.FloatField(),
                                "significant": serializers.BooleanField(),
                            },
                            required=False,
                            allow_null=True,
                            help_text="Time groupings: the change since the previous period (two-sample z-test).",
                        ),
                    },
                    many=True,
                ),
            },
        ),
    )
    def get(self, request: Request) -> ApiResponse:
        rows = nps_report(filters=request.query_params, group_by=request.query_params.get("group_by", ""))
        return ApiResponse({"results": rows, "generated_at": timezone.now()})


# Reports: the dashboard's figures for BI tools, and streaming CSV exports.

REPORT_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day (default: a year before the end)."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day, inclusive (default: today)."),
    OpenApiParameter("survey", str, description="A survey's slug."),
    OpenApiParameter(
        "team", str, description="A team's slug: the responses to tickets that team handled (the invitation names it)."
    ),
    OpenApiParameter("attribute", str, description="A customer segment, name:value (plan:gold)."),
]
_NPS_FIELDS: dict[str, serializers.Field] = {
    "responses": serializers.IntegerField(),
    "promoters": serializers.IntegerField(),
    "passives": serializers.IntegerField(),
    "detractors": serializers.IntegerField(),
    "nps": serializers.FloatField(allow_null=True),
    "margin_of_error": serializers.FloatField(allow_null=True),
}


def _comparison_field(name: str, help_text: str) -> serializers.Serializer:
    return inline_serializer(
        name,
        {
            "difference": serializers.FloatField(),
            "p_value": serializers.FloatField(allow_null=True),
            "significant": serializers.BooleanField(),
        },
        allow_null=True,
        help_text=help_text,
    )


def _report_filters(request: Request) -> DashboardFilters:
    return dashboard_filters(request.query_params, today=timezone.localdate())


class NpsOverTimeReportApi(APIView):
    permission_classes = [CanReadResponses]

    @extend_schema(
        parameters=[*REPORT_PARAMETERS, OpenApiParameter("period", str, enum=list(PERIODS))],
        responses=inline_serializer(
            "NpsOverTimeReport",
            {
                "period": serializers.CharField(),
                "start": serializers.DateField(),
                "end": serializers.DateField(),
                "min_responses": serializers.IntegerField(help_text="Fewer responses: enough is false."),
                "overall": inline_serializer("ReportNps", _NPS_FIELDS),
                "distribution": inline_serializer(
                    "ScoreCount",
                    {"score": serializers.IntegerField(), "responses": serializers.IntegerField()},
                    many=True,
                ),
                "results": inline_serializer(
                    "ReportPeriod",
                    {
                        "period": serializers.CharField(),
                        "enough": serializers.BooleanField(),
                        **_NPS_FIELDS,
                        "change": _comparison_field("PeriodChange", "The change from the period before."),
                    },
                    many=True,
                ),
            },
        ),
        description="NPS per day, week, month or quarter with its margin of error, and the 0-10 distribution.",
    )
    def get(self, request: Request) -> ApiResponse:
        return ApiResponse(report_nps_over_time(_report_filters(request)))


class SegmentsReportApi(APIView):
    permission_classes = [CanReadResponses]

    @extend_schema(
        parameters=[
            *REPORT_PARAMETERS,
            OpenApiParameter("by", str, description="survey | channel | team | agent | attribute:<name>"),
            OpenApiParameter("sort", str, enum=list(SEGMENT_SORTS)),
        ],
        responses=inline_serializer(
            "SegmentsReport",
            {
                "by": serializers.CharField(),
                "results": inline_serializer(
                    "ReportSegment",
                    {
                        "segment": serializers.CharField(),
                        "enough": serializers.BooleanField(),
                        **_NPS_FIELDS,
                        "versus_rest": _comparison_field("SegmentVersusRest", "This segment minus all the others."),
                        "significantly_below": serializers.BooleanField(),
                    },
                    many=True,
                ),
            },
        ),
        description="NPS per segment, each compared with the other segments together.",
    )
    def get(self, request: Request) -> ApiResponse:
        return ApiResponse(report_segments(_report_filters(request)))


def _counts(name: str, fields: Sequence[str], **shares: serializers.Field) -> serializers.Serializer:
    return inline_serializer(name, {**{field: serializers.IntegerField() for field in fields}, **shares})


def _share_field(help_text: str = "") -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text or "0-1; null when nothing to divide by.")


def _workload_field(name: str) -> serializers.Serializer:
    return inline_serializer(
        name,
        {
            "name": serializers.CharField(allow_null=True, help_text="Null: unassigned."),
            "open": serializers.IntegerField(),
            "overdue": serializers.IntegerField(),
        },
        many=True,
    )


def _notified_sample(name: str, help_text: str) -> serializers.Serializer:
    return inline_serializer(
        name,
        {"enough": serializers.BooleanField(help_text="Fewer responses than min_responses: false."), **_NPS_FIELDS},
        help_text=help_text,
    )


LOOP_REPORT = inline_serializer(
    "LoopReport",
    {
        "response_rate": _counts("LoopResponseRate", ("delivered", "answered"), rate=_share_field()),
        "inner": _counts(
            "LoopInner",
            (
                "cases",
                "contacted",
                "first_contact_met",
                "first_contact_due",
                "resolution_met",
                "resolution_due",
                "open",
                "overdue",
            ),
            closure_rate=_share_field("Cases contacted of all cases."),
            first_contact_compliance=_share_field(),
            resolution_compliance=_share_field(),
            median_first_contact_hours=serializers.FloatField(allow_null=True),
            p90_first_contact_hours=serializers.FloatField(allow_null=True),
            recovery=_counts(
                "LoopRecovery",
                ("answered", "recovered", "promoted"),
                rate_7=_share_field("Recovery check-ins answered 7 or more."),
                rate_9=_share_field("Recovery check-ins answered 9 or more."),
            ),
        ),
        "workload": inline_serializer(
            "LoopWorkload", {"agents": _workload_field("LoopAgentLoad"), "teams": _workload_field("LoopTeamLoad")}
        ),
        "outer": inline_serializer(
            "LoopOuter",
            {
                "themes": ThemeRowSerializer(many=True, help_text="The top themes by NPS impact."),
                "shipped": serializers.IntegerField(help_text="Improvements shipped in the window."),
                "notified": serializers.IntegerField(help_text="Customers their updates were sent to."),
                "notified_nps": inline_serializer(
                    "NotifiedNps",
                    {
                        "before": _notified_sample(
                            "NotifiedBefore",
                            "Those customers' responses before the first of their improvements shipped.",
                        ),
                        "after": _notified_sample("NotifiedAfter", "Their responses since."),
                        "change": _comparison_field(
                            "NotifiedChange", "After minus before; null unless both sides have enough responses."
                        ),
                    },
                ),
            },
        ),
    },
)


class LoopReportApi(APIView):
    permission_classes = [CanReadResponses]

    @extend_schema(
        parameters=REPORT_PARAMETERS,
        responses=LOOP_REPORT,
        description=(
            "The inner loop (closure rate, time to first contact, SLA compliance, open and overdue cases "
            "per agent and team, recovery) and the outer loop (top themes, improvements shipped, customers notified "
            "and their NPS before and after their update, with margins of error and the change's significance)."
        ),
    )
    def get(self, request: Request) -> ApiResponse:
        return ApiResponse(report_loop(_report_filters(request), now=timezone.now()))


# A cell starting with one of these is read as a formula by spreadsheets; customers write comments.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else value


class _Echo:
    """A file-like object csv.writer writes one row to, handing the text straight back."""

    def write(self, value: str) -> str:
        return value


def csv_stream(header: Sequence[str], rows: Iterator[tuple[Any, ...]], file_name: str) -> StreamingHttpResponse:
    """A CSV download written row by row as the rows stream from the database."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


CSV_RESPONSE = OpenApiResponse(OpenApiTypes.BINARY, description="text/csv, one row per line, streamed.")


class _CsvExportApi(APIView):
    permission_classes = [CanReadResponses]
    renderer_classes = [JSONRenderer]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The answer is a CSV stream, never rendered data: only an error is rendered, always as
        # JSON, whatever ?format= or Accept header the client sends (no 404 or 406 for them).
        renderer = JSONRenderer()
        return renderer, renderer.media_type


class ResponseExportApi(_CsvExportApi):
    @extend_schema(parameters=REPORT_PARAMETERS, responses={(200, "text/csv"): CSV_RESPONSE})
    def get(self, request: Request) -> StreamingHttpResponse:
        """The filtered responses as CSV, oldest first, streamed in bounded memory."""
        rows = response_export_rows(_report_filters(request))
        return csv_stream(RESPONSE_COLUMNS, rows, "responses.csv")


class CaseExportApi(_CsvExportApi):
    @extend_schema(parameters=REPORT_PARAMETERS, responses={(200, "text/csv"): CSV_RESPONSE})
    def get(self, request: Request) -> StreamingHttpResponse:
        """The cases of the filtered responses with their resolution code and root causes, as CSV."""
        rows = case_export_rows(_report_filters(request))
        return csv_stream(CASE_COLUMNS, rows, "cases.csv")
