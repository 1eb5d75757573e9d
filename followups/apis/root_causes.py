"""Root-cause taxonomy endpoints: list and create, read and change one, merge one into another.

Every role that reads responses reads the taxonomy (the case page and BI tools need it); only
managers change it. Two levels, slugs that never change and the merge rules are the services'
(``followups.services.coding``).
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from closedloop.lib.exceptions import ApplicationError
from closedloop.lib.openapi import CONFLICT
from closedloop.lib.pagination import StandardPagination, paginated
from closedloop.lib.roles import IsManager
from followups.apis.teams import ReadAllWriteManagers
from followups.models import RootCause
from followups.selectors import root_cause_list
from followups.services.coding import KEYWORDS_MAX, root_cause_create, root_cause_merge, root_cause_update


class RootCauseOutputSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    # DRF's metaclass moves declared fields off the class, so this does not shadow Field.parent.
    parent = serializers.SlugField(  # type: ignore[assignment]
        source="parent.slug", default=None, allow_null=True, help_text="The category's slug; null for a category."
    )
    description = serializers.CharField()
    keywords = serializers.ListField(child=serializers.CharField())
    active = serializers.BooleanField()
    merged_into = serializers.SlugField(
        source="merged_into.slug", default=None, allow_null=True, help_text="Set once merged: the survivor's slug."
    )


class RootCauseInputSerializer(serializers.Serializer):
    slug = serializers.SlugField(max_length=80)
    name = serializers.CharField(max_length=200)
    parent = serializers.SlugField(  # type: ignore[assignment]
        max_length=80, allow_null=True, required=False, help_text="A category's slug; null or absent: a category."
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    keywords = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=KEYWORDS_MAX
    )
    active = serializers.BooleanField(required=False)


ROOT_CAUSE_FILTERS = [
    OpenApiParameter("active", bool),
    OpenApiParameter("parent", str, description="A category's slug: its causes."),
    OpenApiParameter("kind", str, enum=["category", "cause"]),
]


def _valid(serializer: serializers.Serializer) -> dict[str, Any]:
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _output(root_cause: RootCause) -> dict[str, Any]:
    return RootCauseOutputSerializer(root_cause_list().get(pk=root_cause.pk)).data


class RootCauseListCreateApi(ReadAllWriteManagers):
    pagination_class = StandardPagination

    @extend_schema(parameters=ROOT_CAUSE_FILTERS, responses=RootCauseOutputSerializer(many=True))
    def get(self, request: Request) -> ApiResponse:
        root_causes = root_cause_list(filters=request.query_params)
        return paginated(request, root_causes, RootCauseOutputSerializer, view=self)

    @extend_schema(request=RootCauseInputSerializer, responses={201: RootCauseOutputSerializer})
    def post(self, request: Request) -> ApiResponse:
        data = _valid(RootCauseInputSerializer(data=request.data))
        root_cause = root_cause_create(**data)
        return ApiResponse(_output(root_cause), status=status.HTTP_201_CREATED)


class RootCauseDetailApi(ReadAllWriteManagers):
    @extend_schema(responses=RootCauseOutputSerializer)
    def get(self, request: Request, slug: str) -> ApiResponse:
        return ApiResponse(RootCauseOutputSerializer(get_object_or_404(root_cause_list(), slug=slug)).data)

    @extend_schema(
        request=RootCauseInputSerializer(partial=True),
        responses={200: RootCauseOutputSerializer, 409: CONFLICT},
        description="Change any field but the slug (sent, it must be the same). `parent` null makes a cause a "
        "category; a category with causes cannot be put under another.",
    )
    def patch(self, request: Request, slug: str) -> ApiResponse:
        root_cause = get_object_or_404(RootCause, slug=slug)
        data = _valid(RootCauseInputSerializer(data=request.data, partial=True))
        if "parent" in data:
            data["parent"] = data["parent"] or ""  # the service's "" is "no parent"
        root_cause_update(root_cause=root_cause, **data)
        return ApiResponse(_output(root_cause))


class RootCauseMergeApi(APIView):
    permission_classes = [IsManager]

    @extend_schema_serializer(component_name="RootCauseMergeInput")
    class InputSerializer(serializers.Serializer):
        into = serializers.SlugField(max_length=80, help_text="The survivor: a cause for a cause, a category for one.")

    @extend_schema_serializer(component_name="RootCauseMergeOutput")
    class OutputSerializer(serializers.Serializer):
        merged = RootCauseOutputSerializer(source="root_cause")
        into = RootCauseOutputSerializer()
        codes_moved = serializers.IntegerField(help_text="Codes moved to the survivor.")
        duplicates_collapsed = serializers.IntegerField(
            help_text="Codes dropped because the response was already coded with the survivor."
        )
        causes_moved = serializers.IntegerField(help_text="A category's causes, moved under the survivor.")
        improvement_links_moved = serializers.IntegerField(
            help_text="Improvements linked to the survivor instead (one linked to both keeps one link)."
        )
        merged_at = serializers.DateTimeField()
        merged_by = serializers.CharField(source="actor.username", default=None, allow_null=True)

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer, 409: CONFLICT},
        description="Move every code of `{slug}` to `into` and retire `{slug}` (inactive, `merged_into` set), "
        "in one transaction. Causes merge into causes and categories into categories (a category's causes "
        "move under the survivor).",
    )
    def post(self, request: Request, slug: str) -> ApiResponse:
        root_cause = get_object_or_404(RootCause, slug=slug)
        into_slug = _valid(self.InputSerializer(data=request.data))["into"]
        into = RootCause.objects.filter(slug=into_slug).first()
        if into is None:
            raise ApplicationError("Unknown root cause.", errors={"into": [f"No root cause with slug {into_slug!r}."]})
        merge = root_cause_merge(root_cause=root_cause, into=into, actor=cast(User, request.user))
        loaded = root_cause_list().in_bulk([merge.root_cause_id, merge.into_id])
        merge.root_cause, merge.into = loaded[merge.root_cause_id], loaded[merge.into_id]
        return ApiResponse(self.OutputSerializer(merge).data)
