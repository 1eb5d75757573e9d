"""Survey configuration endpoints: GET/POST /api/v1/surveys/, GET/PATCH /api/v1/surveys/{slug}/."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from closedloop.lib.pagination import StandardPagination, paginated
from closedloop.lib.roles import CanReadResponses, IsManager
from surveys.models import Survey
from surveys.selectors import survey_list
from surveys.services import survey_create, survey_update
from surveys.services.surveys import EDITABLE_FIELDS

SURVEY_FIELDS = ("slug", *EDITABLE_FIELDS)


class CustomerInputSerializer(serializers.Serializer):
    """Documents a customer as ingestion and invitations take one; ``surveys.intake`` validates it."""

    external_id = serializers.CharField(max_length=100)
    email = serializers.EmailField(required=False, allow_blank=True)
    name = serializers.CharField(required=False, max_length=200)
    phone = serializers.CharField(required=False, max_length=40)
    attributes = serializers.DictField(required=False)


class SurveyOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Survey
        fields = (*SURVEY_FIELDS, "created_at")


class SurveyInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Survey
        fields = SURVEY_FIELDS


class _SurveyPermissions(APIView):
    def get_permissions(self):
        return [CanReadResponses()] if self.request.method in SAFE_METHODS else [IsManager()]


class SurveyListCreateApi(_SurveyPermissions):
    pagination_class = StandardPagination

    @extend_schema(responses=SurveyOutputSerializer(many=True))
    def get(self, request: Request) -> ApiResponse:
        return paginated(request, survey_list(), SurveyOutputSerializer, view=self)

    @extend_schema(request=SurveyInputSerializer, responses={201: SurveyOutputSerializer})
    def post(self, request: Request) -> ApiResponse:
        serializer = SurveyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        survey = survey_create(**serializer.validated_data)
        return ApiResponse(SurveyOutputSerializer(survey).data, status=status.HTTP_201_CREATED)


class SurveyDetailApi(_SurveyPermissions):
    @extend_schema(responses=SurveyOutputSerializer)
    def get(self, request: Request, slug: str) -> ApiResponse:
        return ApiResponse(SurveyOutputSerializer(get_object_or_404(Survey, slug=slug)).data)

    @extend_schema(request=SurveyInputSerializer, responses=SurveyOutputSerializer)
    def patch(self, request: Request, slug: str) -> ApiResponse:
        survey = get_object_or_404(Survey, slug=slug)
        serializer = SurveyInputSerializer(survey, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return ApiResponse(SurveyOutputSerializer(survey_update(survey=survey, **serializer.validated_data)).data)
