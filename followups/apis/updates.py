"""Shipping an improvement and its "you said, we did" updates, for managers.

POST /api/v1/improvements/{id}/ship/, GET /api/v1/improvements/{id}/updates/,
GET /api/v1/improvements/{id}/preview/.
"""

from __future__ import annotations

from typing import cast

from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from closedloop.lib.pagination import LargeListPagination, paginated
from closedloop.lib.roles import IsManager
from followups.models import CustomerUpdate, Improvement
from followups.services.updates import improvement_preview, improvement_ship
from surveys.models import Customer


class ShipmentSerializer(serializers.Serializer):
    queued = serializers.IntegerField(help_text="Updates queued for delivery by this call.")
    suppressed = serializers.IntegerField(help_text="Customers recorded as not to be emailed (see the updates).")
    already_shipped = serializers.BooleanField(help_text="True when it had shipped before: nothing new is queued.")


class ImprovementUpdateSerializer(serializers.Serializer):
    customer = serializers.CharField(source="customer.external_id", help_text="The customer's external id.")
    status = serializers.ChoiceField(choices=CustomerUpdate.Status.choices)
    suppressed_reason = serializers.ChoiceField(
        choices=[("", ""), *CustomerUpdate.SuppressedReason.choices], help_text="Empty unless suppressed."
    )
    sent_at = serializers.DateTimeField(allow_null=True)
    attempts = serializers.IntegerField()


class UpdateFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CustomerUpdate.Status.choices, required=False)


class ReachSerializer(serializers.Serializer):
    queued = serializers.IntegerField(help_text="Customers an update would be sent to.")
    suppressed = serializers.DictField(
        child=serializers.IntegerField(), help_text="Customers reached but not to be emailed, by reason."
    )


class PreviewSerializer(serializers.Serializer):
    customer = serializers.CharField(allow_null=True, help_text="The sample customer's external id.")
    subject = serializers.CharField(allow_null=True)
    text = serializers.CharField(allow_null=True)
    html = serializers.CharField(allow_null=True)
    headers = serializers.DictField(child=serializers.CharField())
    reach = ReachSerializer()


class PreviewFilterSerializer(serializers.Serializer):
    customer = serializers.CharField(max_length=100, required=False, help_text="A customer's external id.")


class CustomerUpdatePagination(LargeListPagination):
    ordering = ("created_at", "id")


def _improvement(pk: int) -> Improvement:
    return get_object_or_404(Improvement, pk=pk)


class ImprovementShipApi(APIView):
    permission_classes = [IsManager]

    @extend_schema(
        request=None,
        responses={200: ShipmentSerializer},
        description="Marks the improvement shipped and queues one update per customer it reaches; shipping "
        "again queues nothing. 400 for a declined improvement.",
    )
    def post(self, request: Request, pk: int) -> ApiResponse:
        shipment = improvement_ship(improvement=_improvement(pk), actor=cast(User, request.user))
        return ApiResponse(ShipmentSerializer(shipment).data)


class ImprovementUpdateListApi(APIView):
    permission_classes = [IsManager]
    pagination_class = CustomerUpdatePagination

    @extend_schema(parameters=[UpdateFilterSerializer], responses=ImprovementUpdateSerializer(many=True))
    def get(self, request: Request, pk: int) -> ApiResponse:
        filters = UpdateFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        updates = CustomerUpdate.objects.filter(improvement=_improvement(pk)).select_related("customer")
        if "status" in filters.validated_data:
            updates = updates.filter(status=filters.validated_data["status"])
        return paginated(request, updates, ImprovementUpdateSerializer, view=self)


class ImprovementPreviewApi(APIView):
    permission_classes = [IsManager]

    @extend_schema(
        parameters=[PreviewFilterSerializer],
        responses=PreviewSerializer,
        description="The exact update email for a sample customer (default: the first one it reaches), and "
        "how many customers shipping now would reach. Email fields are null when it reaches nobody.",
    )
    def get(self, request: Request, pk: int) -> ApiResponse:
        improvement = _improvement(pk)
        filters = PreviewFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        customer = None
        if "customer" in filters.validated_data:
            customer = Customer.objects.filter(
                external_id=filters.validated_data["customer"], erased_at__isnull=True
            ).first()
            if customer is None:
                raise ValidationError({"customer": ["No such customer."]})
        preview = improvement_preview(improvement=improvement, customer=customer)
        email = preview.email
        body = {
            "customer": preview.customer.external_id if preview.customer else None,
            "subject": email.subject if email else None,
            "text": email.text if email else None,
            "html": email.html if email else None,
            "headers": email.headers if email else {},
            "reach": {"queued": preview.reach.queued, "suppressed": preview.reach.suppressed},
        }
        return ApiResponse(PreviewSerializer(body).data)
