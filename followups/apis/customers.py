"""A customer's data as API.md fixes it: read it, export it (right of access), erase it.

Agents and managers read a customer with their responses, cases and updates; only managers
export or erase, and each export and erasure is recorded with who asked
(``followups.services.privacy``). An erased customer no longer answers to their old id.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from closedloop.lib.roles import IsManager
from followups.apis.cases import CanWorkCases
from followups.services.privacy import customer_data, customer_erase, customer_export
from surveys.models import Customer


class CustomerFieldsSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    account = serializers.CharField(allow_null=True, help_text="The account's external id.")
    attributes = serializers.DictField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    surveys_unsubscribed_at = serializers.DateTimeField(allow_null=True)
    updates_unsubscribed_at = serializers.DateTimeField(allow_null=True)


class CustomerResponseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    survey = serializers.SlugField()
    score = serializers.IntegerField()
    category = serializers.CharField()
    comment = serializers.CharField()
    channel = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    ticket_ref = serializers.CharField()
    external_id = serializers.CharField(help_text="The sending system's id of the response; empty if none.")
    root_causes = serializers.ListField(child=serializers.SlugField())


class CustomerCaseEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    actor = serializers.CharField(allow_null=True)
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    details = serializers.DictField()


class CustomerCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    response = serializers.IntegerField()
    status = serializers.CharField()
    team = serializers.SlugField()
    owner = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    close_reason = serializers.CharField()
    events = CustomerCaseEventSerializer(many=True)


class CustomerUpdateSerializer(serializers.Serializer):
    improvement = serializers.CharField(help_text="The improvement's title.")
    status = serializers.CharField()
    sent_at = serializers.DateTimeField(allow_null=True)
    subject = serializers.CharField()
    body = serializers.CharField(help_text="The text of the email as sent.")


class CustomerPrivacyRecordSerializer(serializers.Serializer):
    kind = serializers.CharField()
    at = serializers.DateTimeField()


class CustomerDataSerializer(serializers.Serializer):
    customer = CustomerFieldsSerializer()
    responses = CustomerResponseSerializer(many=True)
    cases = CustomerCaseSerializer(many=True)
    updates = CustomerUpdateSerializer(many=True)
    privacy_records = CustomerPrivacyRecordSerializer(many=True, help_text="Past exports of their data.")


class CustomerErasureSerializer(serializers.Serializer):
    responses = serializers.IntegerField(help_text="Responses kept with their scores, comments removed.")
    cases = serializers.IntegerField(help_text="Cases kept with their timelines.")
    case_events = serializers.IntegerField(help_text="Timeline steps whose notes or reasons were removed.")
    updates = serializers.IntegerField()
    notifications = serializers.IntegerField(help_text="Staff emails whose text was removed.")
    webhook_deliveries = serializers.IntegerField(help_text="Webhook payloads scrubbed of their data.")


def _customer(external_id: str) -> Customer:
    return get_object_or_404(Customer.objects.select_related("account"), external_id=external_id, erased_at=None)


class CustomerDetailApi(APIView):
    def get_permissions(self) -> list[Any]:
        return [IsManager()] if self.request.method == "DELETE" else [CanWorkCases()]

    @extend_schema(responses=CustomerDataSerializer, summary="A customer with their responses, cases and updates")
    def get(self, request: Request, external_id: str) -> ApiResponse:
        return ApiResponse(CustomerDataSerializer(customer_data(_customer(external_id))).data)

    @extend_schema(
        request=None,
        responses={200: CustomerErasureSerializer},
        summary="Erase a customer (managers)",
        description="Personal data removed or anonymised; scores, categories and case timelines kept so NPS "
        "history does not change. Recorded with who asked. The customer no longer answers to this id.",
    )
    def delete(self, request: Request, external_id: str) -> ApiResponse:
        erasure = customer_erase(customer=_customer(external_id), actor=cast(User, request.user))
        return ApiResponse(CustomerErasureSerializer(erasure.as_counts()).data, status=status.HTTP_200_OK)


class CustomerExportApi(APIView):
    permission_classes = [IsManager]

    @extend_schema(
        responses=CustomerDataSerializer,
        summary="Everything stored about a customer (right of access; managers)",
        description="Recorded with who asked. Served as a JSON attachment.",
    )
    def get(self, request: Request, external_id: str) -> ApiResponse:
        customer = _customer(external_id)
        data = CustomerDataSerializer(customer_export(customer=customer, actor=cast(User, request.user))).data
        response = ApiResponse(data)
        response["Content-Disposition"] = 'attachment; filename="customer-data.json"'
        response["Cache-Control"] = "no-store"
        return response
