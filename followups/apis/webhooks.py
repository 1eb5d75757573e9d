"""Webhook endpoint and delivery endpoints, for managers only.

GET/POST /api/v1/webhooks/, GET/PATCH/DELETE /api/v1/webhooks/{id}/,
POST /api/v1/webhooks/{id}/rotate-secret/, GET /api/v1/webhooks/{id}/deliveries/,
POST /api/v1/webhook-deliveries/{id}/replay/.
The signing secret is in the reply that makes it (the creation, a rotation) and nowhere after:
other replies carry ``secret_hint``, its last characters.
"""

from __future__ import annotations

from typing import cast

from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404
from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from closedloop.lib.openapi import CONFLICT
from closedloop.lib.pagination import LargeListPagination, StandardPagination, paginated
from closedloop.lib.roles import IsManager
from followups.models import WebhookDelivery, WebhookEndpoint
from followups.selectors import webhook_delivery_list, webhook_endpoint_list
from followups.services.webhooks import (
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_secret_rotate,
    webhook_endpoint_update,
)
from followups.webhooks import EVENT_TYPES


class WebhookEndpointOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    description = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField(), help_text="Empty: every event.")
    payload_format = serializers.CharField()
    active = serializers.BooleanField()
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)
    created_at = serializers.DateTimeField()
    secret_hint = serializers.CharField(help_text="The signing secret's last characters, to tell which one is in use.")


class WebhookEndpointWithSecretOutputSerializer(WebhookEndpointOutputSerializer):
    secret = serializers.CharField(
        help_text="whsec_... key of the webhook-signature header; shown in this reply only, so keep it now."
    )


class WebhookEndpointCreateInputSerializer(serializers.Serializer):
    # Which URLs and events are acceptable is the service's rule; these check types and sizes.
    url = serializers.CharField(max_length=500)
    events = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, default=list, help_text=", ".join(EVENT_TYPES)
    )
    payload_format = serializers.ChoiceField(
        choices=WebhookEndpoint.Format.choices, required=False, default=WebhookEndpoint.Format.STANDARD
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class WebhookEndpointUpdateInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=500, required=False)
    events = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
    payload_format = serializers.ChoiceField(choices=WebhookEndpoint.Format.choices, required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)


class WebhookDeliveryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    message_id = serializers.CharField(help_text="The webhook-id header, the same on every attempt.")
    event_type = serializers.CharField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(help_text="When a pending delivery is tried next.")
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)


class WebhookDeliveryPagination(LargeListPagination):
    ordering = ("-created_at", "-id")


def _endpoint(pk: int) -> WebhookEndpoint:
    return get_object_or_404(webhook_endpoint_list(), pk=pk)


def _with_secret(endpoint: WebhookEndpoint, status_code: int) -> ApiResponse:
    """The one reply that shows a new secret: no cache along the way may keep a copy."""
    reply = ApiResponse(WebhookEndpointWithSecretOutputSerializer(endpoint).data, status=status_code)
    add_never_cache_headers(reply)
    return reply


class WebhookListCreateApi(APIView):
    permission_classes = [IsManager]
    pagination_class = StandardPagination

    @extend_schema(responses=WebhookEndpointOutputSerializer(many=True))
    def get(self, request: Request) -> ApiResponse:
        return paginated(request, webhook_endpoint_list(), WebhookEndpointOutputSerializer, view=self)

    @extend_schema(
        request=WebhookEndpointCreateInputSerializer,
        responses={201: WebhookEndpointWithSecretOutputSerializer},
        description="The reply is the only one that shows the new endpoint's signing secret. "
        "A URL that is or resolves to an internal address is a 400.",
    )
    def post(self, request: Request) -> ApiResponse:
        serializer = WebhookEndpointCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = webhook_endpoint_create(**serializer.validated_data, created_by=cast(User, request.user))
        return _with_secret(endpoint, status.HTTP_201_CREATED)


class WebhookDetailApi(APIView):
    permission_classes = [IsManager]

    @extend_schema(responses=WebhookEndpointOutputSerializer)
    def get(self, request: Request, pk: int) -> ApiResponse:
        return ApiResponse(WebhookEndpointOutputSerializer(_endpoint(pk)).data)

    @extend_schema(request=WebhookEndpointUpdateInputSerializer, responses=WebhookEndpointOutputSerializer)
    def patch(self, request: Request, pk: int) -> ApiResponse:
        endpoint = _endpoint(pk)
        serializer = WebhookEndpointUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = webhook_endpoint_update(endpoint=endpoint, **serializer.validated_data)
        return ApiResponse(WebhookEndpointOutputSerializer(endpoint).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> ApiResponse:
        webhook_endpoint_delete(endpoint=_endpoint(pk))
        return ApiResponse(status=status.HTTP_204_NO_CONTENT)


class WebhookSecretRotateApi(APIView):
    permission_classes = [IsManager]

    @extend_schema(
        request=None,
        responses={200: WebhookEndpointWithSecretOutputSerializer},
        description="Replaces the signing secret; the reply is the only one that shows the new secret. "
        "The old secret stops signing at once: deliveries the receiver refuses meanwhile are retried.",
    )
    def post(self, request: Request, pk: int) -> ApiResponse:
        endpoint = webhook_endpoint_secret_rotate(endpoint=_endpoint(pk))
        return _with_secret(endpoint, status.HTTP_200_OK)


class WebhookDeliveryListApi(APIView):
    permission_classes = [IsManager]
    pagination_class = WebhookDeliveryPagination

    @extend_schema(responses=WebhookDeliveryOutputSerializer(many=True))
    def get(self, request: Request, pk: int) -> ApiResponse:
        return paginated(
            request,
            webhook_delivery_list(endpoint=_endpoint(pk)),
            WebhookDeliveryOutputSerializer,
            view=self,
        )


class WebhookDeliveryReplayApi(APIView):
    permission_classes = [IsManager]

    @extend_schema(
        request=None,
        responses={202: WebhookDeliveryOutputSerializer, 409: CONFLICT},
        description="Queues the delivery again now, with the same webhook-id. 409 when the endpoint is inactive.",
    )
    def post(self, request: Request, pk: int) -> ApiResponse:
        delivery = webhook_delivery_replay(delivery=get_object_or_404(WebhookDelivery, pk=pk))
        return ApiResponse(WebhookDeliveryOutputSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
