"""Survey configuration endpoints: GET/POST /api/v1/surveys/, GET/PATCH /api/v1/surveys/{slug}/."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from closedloop.pagination import StandardPagination
from closedloop.roles import CanReadResponses, IsManager
from surveys.models import Survey
from surveys.selectors import survey_list
from surveys.services import survey_create, survey_update

SURVEY_FIELDS = (
    "slug",
    "name",
    "kind",
    "question",
    "quarantine_days",
    "followup_passives",
    "hot_threshold",
    "require_coding",
    "active",
    "thank_you_promoter",
    "thank_you_passive",
    "thank_you_detractor",
)


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
    @extend_schema(responses=SurveyOutputSerializer(many=True))
    def get(self, request: Request) -> ApiResponse:
        paginator = StandardPagination()
        page = paginator.paginate_queryset(survey_list(), request, view=self)
        return paginator.get_paginated_response(SurveyOutputSerializer(page, many=True).data)

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
        fields = dict(serializer.validated_data)
        if fields.pop("slug", survey.slug) != survey.slug:
            return ApiResponse({"slug": ["A survey's slug cannot change."]}, status=status.HTTP_400_BAD_REQUEST)
        return ApiResponse(SurveyOutputSerializer(survey_update(survey=survey, **fields)).data)
