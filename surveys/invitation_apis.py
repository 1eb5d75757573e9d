"""Invitations as API.md fixes them: POST /api/v1/invitations/ invites a customer (or says why not).

Integrations and managers invite; the answer carries the ``survey_url`` and the eleven score
links, which the caller delivers itself on the channels the product does not send (SMS, in-app,
a chat bot). An email invitation is scheduled and sent by the task cluster.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from closedloop.lib.exceptions import ApplicationError
from closedloop.lib.pagination import StandardPagination, paginated
from closedloop.lib.roles import CanIngest, CanReadResponses
from surveys.apis import CustomerInputSerializer
from surveys.models import Invitation, Survey
from surveys.selectors import invitation_stats, recovery_rates
from surveys.services.invitations import INVITATION_CHANNELS, invitation_create, score_urls, survey_url


class InvitationInputSerializer(serializers.Serializer):
    survey = serializers.SlugField(max_length=80)
    customer = CustomerInputSerializer()
    channel = serializers.ChoiceField(choices=INVITATION_CHANNELS, default="email")
    ticket_ref = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    agent = serializers.CharField(
        required=False, allow_blank=True, max_length=150, default="", help_text="Who handled the ticket (username)."
    )
    team = serializers.SlugField(
        required=False, allow_blank=True, max_length=80, default="", help_text="The team that handled the ticket."
    )
    send_at = serializers.DateTimeField(required=False, default=None, help_text="Email: when to send it (default now).")


class InvitationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    survey = serializers.SlugField(source="survey.slug")
    customer = serializers.CharField(source="customer.external_id")
    channel = serializers.CharField()
    status = serializers.ChoiceField(choices=Invitation.Status.choices)
    reason = serializers.CharField(help_text="Why it was suppressed (quarantine, unsubscribed, no_address, ...).")
    ticket_ref = serializers.CharField()
    send_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)
    answered_at = serializers.DateTimeField(allow_null=True)
    survey_url = serializers.SerializerMethodField(help_text="The survey page; null when suppressed.")
    score_urls = serializers.SerializerMethodField(help_text="The 0-10 scale as eleven links; empty when suppressed.")

    def get_survey_url(self, invitation: Invitation) -> str | None:
        return None if invitation.status == Invitation.Status.SUPPRESSED else survey_url(invitation)

    def get_score_urls(self, invitation: Invitation) -> list[str]:
        return [] if invitation.status == Invitation.Status.SUPPRESSED else score_urls(invitation)


class InvitationCreateApi(APIView):
    permission_classes = [CanIngest]

    @extend_schema(
        request=InvitationInputSerializer,
        responses={201: InvitationOutputSerializer, 200: InvitationOutputSerializer},
        summary="Invite a customer to a survey",
        description="201 with the new invitation (status scheduled, sent or suppressed with its reason); a ticket "
        "already invited to the survey answers 200 with its first invitation.",
    )
    def post(self, request: Request) -> ApiResponse:
        serializer = InvitationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        survey = Survey.objects.filter(slug=data.pop("survey")).first()
        if survey is None:
            raise ApplicationError("Invalid invitation.", errors={"survey": ["No such survey."]})
        # The customer as sent: the ingestion rules (surveys.intake) check it, as for responses.
        customer = request.data["customer"] if isinstance(request.data, dict) else None
        made = invitation_create(survey=survey, customer=customer, **_without(data, "customer"))
        code = status.HTTP_201_CREATED if made.created else status.HTTP_200_OK
        return ApiResponse(InvitationOutputSerializer(made.invitation).data, status=code)


class InvitationDetailApi(APIView):
    permission_classes = [CanIngest]

    @extend_schema(responses=InvitationOutputSerializer, summary="An invitation and its status")
    def get(self, request: Request, pk: int) -> ApiResponse:
        invitation = get_object_or_404(Invitation.objects.select_related("survey", "customer"), pk=pk)
        return ApiResponse(InvitationOutputSerializer(invitation).data)


class InvitationStatsSerializer(serializers.Serializer):
    survey = serializers.SlugField()
    scheduled = serializers.IntegerField()
    sent = serializers.IntegerField(help_text="Delivered and not answered yet.")
    failed = serializers.IntegerField()
    suppressed = serializers.IntegerField()
    answered = serializers.IntegerField()
    suppressed_by_reason = serializers.DictField(child=serializers.IntegerField())
    delivered = serializers.IntegerField(help_text="Sent or answered.")
    response_rate = serializers.FloatField(allow_null=True, help_text="answered / delivered (0-1); null if none.")


class InvitationStatsApi(APIView):
    permission_classes = [CanReadResponses]
    pagination_class = StandardPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("survey", str),
            OpenApiParameter("sent_after", str, description="ISO 8601 time, inclusive (the time it was due)."),
            OpenApiParameter("sent_before", str, description="ISO 8601 time, exclusive."),
        ],
        responses=InvitationStatsSerializer(many=True),
        summary="Invitations by status and the response rate, per survey",
    )
    def get(self, request: Request) -> ApiResponse:
        return paginated(request, invitation_stats(filters=request.query_params), InvitationStatsSerializer, view=self)


class RecoverySerializer(serializers.Serializer):
    answered = serializers.IntegerField(help_text="Recovery check-ins answered.")
    recovered = serializers.IntegerField(help_text="Of those, answered 7 or more (passive or promoter now).")
    promoted = serializers.IntegerField(help_text="Of those, answered 9 or more.")


class RecoveryApi(APIView):
    permission_classes = [CanReadResponses]

    @extend_schema(responses=RecoverySerializer, summary="Detractors who recovered after their case was resolved")
    def get(self, request: Request) -> ApiResponse:
        return ApiResponse(RecoverySerializer(recovery_rates()).data)


def _without(data: dict, key: str) -> dict:
    return {name: value for name, value in data.items() if name != key}
