"""Team endpoints."""

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
from followups.models import Team
from followups.selectors import team_list
from followups.services import team_create, team_update
from followups.services.teams import CALENDAR_FIELDS


class ReadAllWriteManagers(APIView):
    """Every role that reads responses may read; only managers may write (teams, root causes)."""

    def get_permissions(self):
        return [CanReadResponses()] if self.request.method in SAFE_METHODS else [IsManager()]


class TeamOutputSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    members = serializers.SerializerMethodField()
    lead = serializers.CharField(source="lead.username", default=None, allow_null=True)
    default = serializers.BooleanField(source="is_default")
    time_zone = serializers.CharField()
    working_hours = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    holiday_country = serializers.CharField()
    holiday_subdivision = serializers.CharField()
    extra_holidays = serializers.ListField(child=serializers.CharField())

    def get_members(self, team: Team) -> list[str]:
        return sorted(user.username for user in team.members.all())


class TeamInputSerializer(serializers.Serializer):
    slug = serializers.SlugField(max_length=80)
    name = serializers.CharField(max_length=200)
    members = serializers.ListField(child=serializers.CharField(max_length=150), required=False)
    lead = serializers.CharField(max_length=150, required=False, allow_null=True, allow_blank=True)
    default = serializers.BooleanField(required=False)
    time_zone = serializers.CharField(required=False, max_length=64)
    working_hours = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField(max_length=11), max_length=6),
        required=False,
        help_text='Per weekday, e.g. {"mon": ["09:00-12:30", "13:30-17:00"], "sat": []}.',
    )
    holiday_country = serializers.CharField(required=False, allow_blank=True, max_length=2)
    holiday_subdivision = serializers.CharField(required=False, allow_blank=True, max_length=10)
    extra_holidays = serializers.ListField(child=serializers.DateField(), required=False, max_length=366)


class TeamListCreateApi(ReadAllWriteManagers):
    pagination_class = StandardPagination

    @extend_schema(responses=TeamOutputSerializer(many=True))
    def get(self, request: Request) -> ApiResponse:
        return paginated(request, team_list(), TeamOutputSerializer, view=self)

    @extend_schema(request=TeamInputSerializer, responses={201: TeamOutputSerializer})
    def post(self, request: Request) -> ApiResponse:
        serializer = TeamInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        team = team_create(
            slug=data["slug"],
            name=data["name"],
            members=data.get("members", ()),
            lead=data.get("lead") or None,
            default=data.get("default", False),
            **{field: data[field] for field in CALENDAR_FIELDS if field in data},
        )
        return ApiResponse(TeamOutputSerializer(team_list().get(pk=team.pk)).data, status=status.HTTP_201_CREATED)


class TeamDetailApi(ReadAllWriteManagers):
    @extend_schema(responses=TeamOutputSerializer)
    def get(self, request: Request, slug: str) -> ApiResponse:
        return ApiResponse(TeamOutputSerializer(get_object_or_404(team_list(), slug=slug)).data)

    @extend_schema(request=TeamInputSerializer(partial=True), responses=TeamOutputSerializer)
    def patch(self, request: Request, slug: str) -> ApiResponse:
        team = get_object_or_404(Team, slug=slug)
        serializer = TeamInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        team_update(
            team=team,
            slug=data.get("slug"),
            name=data.get("name"),
            members=data.get("members"),
            lead=data["lead"] or "" if "lead" in data else None,
            default=data.get("default"),
            **{field: data[field] for field in CALENDAR_FIELDS if field in data},
        )
        return ApiResponse(TeamOutputSerializer(team_list().get(pk=team.pk)).data)
