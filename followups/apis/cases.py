"""Case endpoints of API.md: list, detail, transition, assign, notes, root causes, events.

Views only validate the body's shape, call one service or selector and serialize; the workflow
table, deadlines and who-may-do-what live in the services (``followups.services.cases``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from closedloop.lib.exceptions import ApplicationError
from closedloop.lib.openapi import CONFLICT
from closedloop.lib.pagination import StandardPagination, UncountedPagination, paginated
from closedloop.lib.roles import IsManager
from followups.models import Case, ResolutionCode, ResponseRootCause
from followups.models.cases import breached_deadlines, is_at_risk, is_overdue
from followups.permissions import can_read_cases
from followups.selectors import (
    case_as_row,
    case_detail,
    case_events,
    case_values,
    coded_root_causes,
    resolution_code_list,
    with_root_causes,
)
from followups.services.cases import (
    CONTACT_CHANNELS,
    CONTACT_OUTCOMES,
    case_assign,
    case_contact_log,
    case_note_add,
    case_root_causes_set,
    case_transition,
)
from followups.services.coding import resolution_code_create
from followups.workflow import CaseStatus

UserModel = get_user_model()


class CanWorkCases(BasePermission):
    message = "Only agents and managers may see cases."

    def has_permission(self, request, view) -> bool:
        return can_read_cases(request.user)


class CustomerSummarySerializer(serializers.Serializer):
    external_id = serializers.CharField()
    name = serializers.CharField()
    email = serializers.CharField()


class CaseResponseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    survey = serializers.CharField(source="survey.slug")
    score = serializers.IntegerField()
    category = serializers.CharField()
    comment = serializers.CharField()
    channel = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    ticket_ref = serializers.CharField()
    customer = CustomerSummarySerializer()


class CaseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    response = CaseResponseSerializer()
    owner = serializers.CharField(source="owner.username", default=None, allow_null=True)
    team = serializers.CharField(source="team.slug")
    status = serializers.CharField()
    priority = serializers.CharField()
    created_at = serializers.DateTimeField()
    first_contact_due = serializers.DateTimeField()
    resolution_due = serializers.DateTimeField()
    next_due = serializers.DateTimeField(allow_null=True)
    first_contacted_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    paused_since = serializers.DateTimeField(source="paused_at", allow_null=True)
    breached = serializers.ListField(child=serializers.CharField())
    at_risk = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()
    escalation_level = serializers.IntegerField()
    root_causes = serializers.SerializerMethodField()

    def get_at_risk(self, case: Case) -> bool:
        return case.is_at_risk(self.context["now"])

    def get_overdue(self, case: Case) -> bool:
        return case.is_overdue(self.context["now"])

    def get_root_causes(self, case: Case) -> list[str]:
        return [code.root_cause.slug for code in coded_root_causes(case)]

    def to_representation(self, case: Case | dict[str, Any]) -> dict[str, Any]:
        """A loaded case, or a row of ``case_values`` completed by ``with_root_causes``.

        Queues list many cases per request: building the dict directly is several times faster
        than walking the declared fields, which stay as the schema's description of it.
        Measured by tests/bench/escalation.py (queue): with ``case_values`` and ``_time_writer``
        a page is 35-37 ms (serializing 1 ms), against 123-169 ms (serializing 21-40 ms) for
        ``case_list`` through DRF's field walk.
        """
        row = case if isinstance(case, dict) else case_as_row(case)
        now, when = self.context["now"], self.context["time"]
        status, next_due = row["status"], row["next_due"]
        return {
            "id": row["id"],
            "response": {
                "id": row["response_id"],
                "survey": row["response__survey__slug"],
                "score": row["response__score"],
                "category": row["response__category"],
                "comment": row["response__comment"],
                "channel": row["response__channel"],
                "submitted_at": when(row["response__submitted_at"]),
                "ticket_ref": row["response__ticket_ref"],
                "customer": {
                    "external_id": row["response__customer__external_id"],
                    "name": row["response__customer__name"],
                    "email": row["response__customer__email"],
                },
            },
            "owner": row["owner__username"],
            "team": row["team__slug"],
            "status": status,
            "priority": row["priority"],
            "created_at": when(row["created_at"]),
            "first_contact_due": when(row["first_contact_due"]),
            "resolution_due": when(row["resolution_due"]),
            "next_due": when(next_due),
            "first_contacted_at": when(row["first_contacted_at"]),
            "resolved_at": when(row["resolved_at"]),
            "closed_at": when(row["closed_at"]),
            "paused_since": when(row["paused_at"]),
            "breached": breached_deadlines(row["first_contact_breached_at"], row["resolution_breached_at"]),
            "at_risk": is_at_risk(status, next_due, row["at_risk_from"], now),
            "overdue": is_overdue(status, next_due, now),
            "escalation_level": row["escalation_level"],
            "root_causes": row["root_causes"],
        }


def _time_writer(zone: tzinfo) -> Callable[[datetime | None], str | None]:
    """Times as DRF's DateTimeField renders them (ISO 8601 in ``zone``, UTC as Z), with ``zone``
    looked up once per page: per value, DRF's lookups cost more than the rest of a page's rendering.
    """

    def write(value: datetime | None) -> str | None:
        if value is None:
            return None
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return write


class CaseEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor.username", default=None, allow_null=True)
    kind = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    details = serializers.DictField()


class RootCauseCodeSerializer(serializers.Serializer):
    root_cause = serializers.SlugField(source="root_cause.slug")
    # DRF's metaclass moves declared fields off the class, so this does not shadow Field.source.
    source = serializers.ChoiceField(choices=ResponseRootCause.Source.choices)  # type: ignore[assignment]
    coded_by = serializers.CharField(source="coded_by.username", default=None, allow_null=True)
    coded_at = serializers.DateTimeField()


class CaseDetailSerializer(CaseOutputSerializer):
    close_reason = serializers.CharField()
    resolution_code = serializers.CharField(source="resolution_code.slug", default=None, allow_null=True)
    root_cause_codes = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    def to_representation(self, case: Case) -> dict[str, Any]:  # type: ignore[override]  # a detail is a loaded case
        return {
            **super().to_representation(case),
            "close_reason": case.close_reason,
            "resolution_code": case.resolution_code.slug if case.resolution_code else None,
            "root_cause_codes": self.get_root_cause_codes(case),
            "allowed_transitions": self.get_allowed_transitions(case),
            "events": self.get_events(case),
        }

    def get_allowed_transitions(self, case: Case) -> list[str]:
        return [str(status) for status in case.allowed_next_statuses()]

    @extend_schema_field(RootCauseCodeSerializer(many=True))
    def get_root_cause_codes(self, case: Case) -> list[dict[str, Any]]:
        """Who coded each root cause, how (``source``) and when; ``root_causes`` has their slugs alone."""
        return list(RootCauseCodeSerializer(coded_root_causes(case), many=True).data)

    @extend_schema_field(CaseEventSerializer(many=True))
    def get_events(self, case: Case) -> list[dict[str, Any]]:
        return list(CaseEventSerializer(case_events(case=case), many=True).data)


def serializer_context() -> dict[str, Any]:
    """What the case serializers need: the time now and how to write times."""
    return {"now": timezone.now(), "time": _time_writer(timezone.get_current_timezone())}


def _detail(case_id: int) -> ApiResponse:
    return ApiResponse(CaseDetailSerializer(case_detail(case_id=case_id), context=serializer_context()).data)


class CaseListApi(APIView):
    permission_classes = [CanWorkCases]
    pagination_class = UncountedPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, description="One or several statuses, comma-separated."),
            OpenApiParameter("open", bool, description="true: not resolved or closed."),
            OpenApiParameter("owner", str, description="`me`, `none` (unassigned) or a username."),
            OpenApiParameter("team", str, description="Team slug."),
            OpenApiParameter("overdue", bool),
            OpenApiParameter("priority", str, enum=["hot", "normal"]),
        ],
        responses=CaseOutputSerializer(many=True),
    )
    def get(self, request: Request) -> ApiResponse:
        cases = case_values(filters=request.query_params, user=_actor(request))
        return paginated(
            request,
            cases,
            CaseOutputSerializer,
            view=self,
            context=serializer_context(),
            complete=with_root_causes,
        )


class CaseDetailApi(APIView):
    permission_classes = [CanWorkCases]

    @extend_schema(responses=CaseDetailSerializer)
    def get(self, request: Request, case_id: int) -> ApiResponse:
        get_object_or_404(Case, pk=case_id)
        return _detail(case_id)


class CaseTransitionApi(APIView):
    permission_classes = [CanWorkCases]

    @extend_schema_serializer(component_name="CaseTransitionInput")
    class InputSerializer(serializers.Serializer):
        to = serializers.ChoiceField(choices=CaseStatus.choices)
        note = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
        reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
        resolution_code = serializers.SlugField(required=False, allow_null=True, default=None)

    @extend_schema(request=InputSerializer, responses={200: CaseDetailSerializer, 409: CONFLICT})
    def post(self, request: Request, case_id: int) -> ApiResponse:
        case = get_object_or_404(Case, pk=case_id)
        data = _valid(self.InputSerializer, request)
        case_transition(
            case=case,
            to_status=data["to"],
            actor=_actor(request),
            note=data["note"],
            reason=data["reason"],
            resolution_code=data["resolution_code"],
        )
        return _detail(case_id)


class CaseAssignApi(APIView):
    permission_classes = [CanWorkCases]

    @extend_schema_serializer(component_name="CaseAssignInput")
    class InputSerializer(serializers.Serializer):
        owner = serializers.CharField(allow_null=True, max_length=150)

    @extend_schema(request=InputSerializer, responses={200: CaseDetailSerializer})
    def post(self, request: Request, case_id: int) -> ApiResponse:
        case = get_object_or_404(Case, pk=case_id)
        data = _valid(self.InputSerializer, request)
        owner = None
        if data["owner"]:
            owner = UserModel.objects.filter(username=data["owner"]).first()
            if owner is None:
                raise ApplicationError("Unknown user.", errors={"owner": [f"No user named {data['owner']!r}."]})
        case_assign(case=case, owner=owner, actor=_actor(request))
        return _detail(case_id)


class CaseNoteApi(APIView):
    permission_classes = [CanWorkCases]

    @extend_schema_serializer(component_name="CaseNoteInput")
    class InputSerializer(serializers.Serializer):
        text = serializers.CharField(max_length=5000)

    @extend_schema(request=InputSerializer, responses={201: CaseEventSerializer})
    def post(self, request: Request, case_id: int) -> ApiResponse:
        case = get_object_or_404(Case, pk=case_id)
        data = _valid(self.InputSerializer, request)
        event = case_note_add(case=case, actor=_actor(request), text=data["text"])
        return ApiResponse(CaseEventSerializer(event).data, status=status.HTTP_201_CREATED)


class CaseContactApi(APIView):
    permission_classes = [CanWorkCases]

    @extend_schema_serializer(component_name="CaseContactInput")
    class InputSerializer(serializers.Serializer):
        channel = serializers.ChoiceField(choices=CONTACT_CHANNELS)
        outcome = serializers.ChoiceField(choices=list(CONTACT_OUTCOMES))
        note = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")

    @extend_schema(request=InputSerializer, responses={200: CaseDetailSerializer, 409: CONFLICT})
    def post(self, request: Request, case_id: int) -> ApiResponse:
        case = get_object_or_404(Case, pk=case_id)
        data = _valid(self.InputSerializer, request)
        case_contact_log(case=case, actor=_actor(request), **data)
        return _detail(case_id)


@extend_schema_serializer(component_name="RootCausesInput")
class RootCausesInputSerializer(serializers.Serializer):
    """The codes of a case's or any response's comment, replacing those it had."""

    root_causes = serializers.ListField(child=serializers.SlugField(), max_length=50)


class CaseRootCausesApi(APIView):
    permission_classes = [CanWorkCases]

    @extend_schema(request=RootCausesInputSerializer, responses={200: CaseDetailSerializer})
    def put(self, request: Request, case_id: int) -> ApiResponse:
        case = get_object_or_404(Case, pk=case_id)
        data = _valid(RootCausesInputSerializer, request)
        case_root_causes_set(case=case, actor=_actor(request), slugs=data["root_causes"])
        return _detail(case_id)


class CaseEventsApi(APIView):
    permission_classes = [CanWorkCases]
    pagination_class = StandardPagination

    @extend_schema(responses=CaseEventSerializer(many=True))
    def get(self, request: Request, case_id: int) -> ApiResponse:
        case = get_object_or_404(Case, pk=case_id)
        return paginated(request, case_events(case=case), CaseEventSerializer, view=self)


class ResolutionCodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ResolutionCode
        fields = ("slug", "name", "active", "position")


class ResolutionCodeListApi(APIView):
    pagination_class = StandardPagination

    def get_permissions(self):
        return [CanWorkCases()] if self.request.method in SAFE_METHODS else [IsManager()]

    @extend_schema(responses=ResolutionCodeSerializer(many=True))
    def get(self, request: Request) -> ApiResponse:
        return paginated(request, resolution_code_list(), ResolutionCodeSerializer, view=self)

    @extend_schema(request=ResolutionCodeSerializer, responses={201: ResolutionCodeSerializer})
    def post(self, request: Request) -> ApiResponse:
        serializer = ResolutionCodeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        code = resolution_code_create(**serializer.validated_data)
        return ApiResponse(ResolutionCodeSerializer(code).data, status=status.HTTP_201_CREATED)


def _actor(request: Request) -> User:
    """Who acts: CanWorkCases has already refused anonymous requests."""
    return cast(User, request.user)


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
