"""Improvement endpoints: the board as a list ranked by priority, create one, read and change one.

Agents and managers read; managers write. A PATCH may change the fields, the status (through
the lifecycle; ``shipped`` is the ship endpoint's) and the priority override together, in one
transaction: refused in part, nothing of it is stored. Shipping and the customer updates have
endpoints of their own.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import User
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from closedloop.lib.exceptions import ApplicationError, ConflictError
from closedloop.lib.openapi import CONFLICT
from closedloop.lib.pagination import StandardPagination, paginated
from closedloop.lib.roles import IsManager
from followups.apis.cases import CanWorkCases
from followups.improvement_status import ImprovementStatus
from followups.models import Improvement, RootCause
from followups.selectors import (
    improvement_board,
    improvement_delivery_counts,
    improvement_detail,
    improvement_impact,
    improvement_priorities,
)
from followups.services.improvements import (
    CHECKIN_DAYS_MAX,
    LOOKBACK_DAYS_MAX,
    improvement_checkin_schedule,
    improvement_create,
    improvement_move,
    improvement_priority_override,
    improvement_update,
)
from surveys.nps import NpsSummary, rounded

ROOT_CAUSES_MAX = 50


@extend_schema_serializer(component_name="ImprovementPriority")
class PrioritySerializer(serializers.Serializer):
    score = serializers.FloatField(help_text="The override when there is one, else the computed score.")
    computed = serializers.FloatField(
        help_text="Distinct customers who raised the themes times the NPS points they cost."
    )
    override = serializers.FloatField(allow_null=True)
    reason = serializers.CharField(help_text="Why a manager overrode the score; empty without an override.")
    explanation = serializers.CharField(help_text="The one sentence the board shows.")


@extend_schema_serializer(component_name="ImprovementStatusChange")
class StatusChangeSerializer(serializers.Serializer):
    # "from" is a keyword: declared through the fields mapping below.
    to = serializers.ChoiceField(source="to_status", choices=ImprovementStatus.choices)
    actor = serializers.CharField(source="actor.username", default=None, allow_null=True)
    at = serializers.DateTimeField(source="changed_at")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = serializers.CharField(source="from_status", help_text="Empty for the creation.")
        return {"from": fields.pop("from"), **fields}


@extend_schema_serializer(component_name="ImprovementDeliveries")
class DeliveriesSerializer(serializers.Serializer):
    pending = serializers.IntegerField()
    sent = serializers.IntegerField()
    failed = serializers.IntegerField()
    suppressed = serializers.IntegerField()


class ImprovementOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    root_causes = serializers.SerializerMethodField()
    owner = serializers.CharField(source="owner.username", default=None, allow_null=True)
    status = serializers.ChoiceField(choices=ImprovementStatus.choices)
    target_date = serializers.DateField(allow_null=True)
    customer_message = serializers.CharField()
    lookback_days = serializers.IntegerField()
    priority = PrioritySerializer()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    shipped_at = serializers.DateTimeField(allow_null=True)
    checkin_days = serializers.IntegerField(
        allow_null=True, help_text="Days after shipping the notified customers are asked again; null: never."
    )
    checkins_sent_at = serializers.DateTimeField(allow_null=True)
    status_history = StatusChangeSerializer(source="status_changes.all", many=True)
    deliveries = DeliveriesSerializer(help_text="Its customer updates by status.")

    @extend_schema_field(serializers.ListField(child=serializers.SlugField()))
    def get_root_causes(self, improvement: Improvement) -> list[str]:
        return [rc.slug for rc in improvement.root_causes.all()]


@extend_schema_serializer(component_name="ImprovementPriorityOverride")
class PriorityOverrideSerializer(serializers.Serializer):
    override = serializers.FloatField(allow_null=True, min_value=-1e9, max_value=1e9, help_text="null clears it.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class ImprovementInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    root_causes = serializers.ListField(
        child=serializers.SlugField(max_length=80), required=False, max_length=ROOT_CAUSES_MAX
    )
    owner = serializers.CharField(required=False, allow_null=True, max_length=150, help_text="A username, or null.")
    status = serializers.ChoiceField(
        choices=ImprovementStatus.choices,
        required=False,
        help_text="Moves through the lifecycle; `shipped` is refused: use `POST /api/v1/improvements/{id}/ship/`.",
    )
    target_date = serializers.DateField(required=False, allow_null=True)
    customer_message = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    lookback_days = serializers.IntegerField(required=False, min_value=1, max_value=LOOKBACK_DAYS_MAX)
    checkin_days = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=CHECKIN_DAYS_MAX,
        help_text="Ask the notified customers again this many days after shipping (null: never); 409 once sent.",
    )
    priority = PriorityOverrideSerializer(required=False, help_text="A manager's own score with its reason.")


IMPROVEMENT_FILTERS = [
    OpenApiParameter("status", str, description="One or several statuses, comma-separated."),
    OpenApiParameter("owner", str, description="A username, or `none`."),
    OpenApiParameter(
        "root_cause", str, description="A root cause's slug: improvements linked to it, to its category or its causes."
    ),
]


class ManagersWrite(APIView):
    """Agents and managers read improvements; only managers change them."""

    def get_permissions(self):
        return [CanWorkCases()] if self.request.method in SAFE_METHODS else [IsManager()]


def _with_figures(improvements: list[Improvement]) -> list[Improvement]:
    """Attach the priority (unless the board did) and the delivery counts: one query each for the page."""
    missing = [i for i in improvements if not hasattr(i, "priority")]
    priorities = improvement_priorities(missing, now=timezone.now())
    deliveries = improvement_delivery_counts(ids=[i.pk for i in improvements])
    for improvement in improvements:
        if improvement.pk in priorities:
            improvement.priority = priorities[improvement.pk]  # type: ignore[attr-defined]
        improvement.deliveries = deliveries[improvement.pk]  # type: ignore[attr-defined]
    return improvements


def _output(pk: int) -> dict[str, Any]:
    return ImprovementOutputSerializer(_with_figures([improvement_detail(pk=pk)])[0]).data


def _root_causes(slugs: list[str]) -> list[RootCause]:
    found = RootCause.objects.in_bulk(slugs, field_name="slug")
    unknown = sorted(set(slugs) - set(found))
    if unknown:
        raise ApplicationError(
            "Unknown root cause.", errors={"root_causes": [f"No root cause with slug {slug!r}." for slug in unknown]}
        )
    return [found[slug] for slug in dict.fromkeys(slugs)]


def _owner(username: str | None) -> User | None:
    if username is None:
        return None
    owner = User.objects.filter(username=username).first()
    if owner is None:
        raise ApplicationError("Unknown owner.", errors={"owner": [f"No user {username!r}."]})
    return owner


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    """The service's keyword arguments from the validated body: slugs and usernames resolved."""
    fields = {k: v for k, v in data.items() if k not in {"status", "priority", "root_causes", "owner", "checkin_days"}}
    if "root_causes" in data:
        fields["root_causes"] = _root_causes(data["root_causes"])
    if "owner" in data:
        fields["owner"] = _owner(data["owner"])
    return fields


def _apply_status_and_priority(improvement: Improvement, data: dict[str, Any], actor: User) -> None:
    if "status" in data:
        improvement_move(improvement=improvement, to_status=data["status"], actor=actor)
    if "checkin_days" in data:
        improvement_checkin_schedule(improvement=improvement, days=data["checkin_days"], actor=actor)
    if "priority" in data:
        override = data["priority"]
        improvement_priority_override(
            improvement=improvement, score=override["override"], reason=override.get("reason", "")
        )


class ImprovementListCreateApi(ManagersWrite):
    pagination_class = StandardPagination

    @extend_schema(
        parameters=IMPROVEMENT_FILTERS,
        responses=ImprovementOutputSerializer(many=True),
        description="Ranked by priority, highest first (newest first among equals).",
    )
    def get(self, request: Request) -> ApiResponse:
        board = improvement_board(filters=request.query_params, now=timezone.now(), with_history=True)
        return paginated(request, board, ImprovementOutputSerializer, view=self, complete=_with_figures)

    @extend_schema(request=ImprovementInputSerializer, responses={201: ImprovementOutputSerializer})
    def post(self, request: Request) -> ApiResponse:
        serializer = ImprovementInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        actor = cast(User, request.user)
        with transaction.atomic():
            improvement = improvement_create(actor=actor, **_fields(data))
            _apply_status_and_priority(improvement, data, actor)
        return ApiResponse(_output(improvement.pk), status=status.HTTP_201_CREATED)


class ImprovementDetailApi(ManagersWrite):
    @extend_schema(responses=ImprovementOutputSerializer)
    def get(self, request: Request, pk: int) -> ApiResponse:
        get_object_or_404(Improvement, pk=pk)
        return ApiResponse(_output(pk))

    @extend_schema(
        request=ImprovementInputSerializer(partial=True),
        responses={200: ImprovementOutputSerializer, 409: CONFLICT},
        description="Change any field, the status (as the lifecycle allows; never to `shipped`) and the "
        "priority override, all or nothing.",
    )
    def patch(self, request: Request, pk: int) -> ApiResponse:
        improvement = get_object_or_404(Improvement, pk=pk)
        serializer = ImprovementInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        actor = cast(User, request.user)
        with transaction.atomic():
            fields = _fields(data)
            if fields:
                improvement_update(improvement=improvement, **fields)
            _apply_status_and_priority(improvement, data, actor)
        return ApiResponse(_output(pk))


class NpsSampleSerializer(serializers.Serializer):
    responses = serializers.IntegerField()
    enough = serializers.BooleanField(help_text="Whether there are enough answers (30) for the NPS to say anything.")
    nps = serializers.FloatField(allow_null=True)
    margin_of_error = serializers.FloatField(allow_null=True, help_text="95 % half-width, in points.")


class ImpactSerializer(serializers.Serializer):
    before = NpsSampleSerializer(help_text="The notified customers' answers before shipping.")
    after = NpsSampleSerializer(help_text="Their answers since.")
    difference = serializers.FloatField(
        allow_null=True, help_text="after minus before, in points; null unless both sides have enough answers."
    )
    p_value = serializers.FloatField(allow_null=True)
    significant = serializers.BooleanField(help_text="At the 5 % level.")


def _sample(summary: NpsSummary) -> dict[str, Any]:
    return {
        "responses": summary.responses,
        "enough": summary.enough,
        "nps": rounded(summary.nps),
        "margin_of_error": rounded(summary.margin_of_error),
    }


class ImprovementImpactApi(ManagersWrite):
    @extend_schema(
        responses={200: ImpactSerializer, 409: CONFLICT},
        description="Did it work: the NPS of the customers its update reached, before and after shipping; "
        "409 before it has shipped.",
    )
    def get(self, request: Request, pk: int) -> ApiResponse:
        impact = improvement_impact(improvement=get_object_or_404(Improvement, pk=pk))
        if impact is None:
            raise ConflictError("The improvement has not shipped yet.")
        change = impact.change
        return ApiResponse(
            {
                "before": _sample(impact.before),
                "after": _sample(impact.after),
                "difference": rounded(change.difference) if change else None,
                "p_value": change.p_value if change else None,
                "significant": bool(change and change.significant),
            }
        )
