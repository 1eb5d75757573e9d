"""Coding any response, its suggested root causes and the decisions on them, and training the classifier.

``PUT /responses/{id}/root-causes/`` codes a promoter's or passive's comment as the case endpoint
codes a case's (one service, ``response_root_causes_set``). Suggestions are read, then accepted
or rejected one by one; nothing is coded from a suggestion without a decision.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from closedloop.lib.openapi import CONFLICT
from closedloop.lib.roles import IsManager
from followups.apis.cases import CanWorkCases, RootCauseCodeSerializer, RootCausesInputSerializer, _actor, _valid
from followups.models import ResponseRootCause, SuggestionDecision
from followups.selectors import suggestion_model_current, suggestions_for
from followups.services.cases import response_root_causes_set
from followups.services.suggestions import suggestion_decide, suggestion_model_train_enqueue
from surveys.models import Response


class ResponseCodesSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    root_causes = serializers.ListField(child=serializers.SlugField())
    root_cause_codes = RootCauseCodeSerializer(many=True)


def _codes(response: Response) -> ApiResponse:
    codes = list(
        ResponseRootCause.objects.filter(response=response)
        .select_related("root_cause", "coded_by")
        .order_by("root_cause__slug")
    )
    body = {"id": response.pk, "root_causes": [code.root_cause.slug for code in codes], "root_cause_codes": codes}
    return ApiResponse(ResponseCodesSerializer(body).data)


class ResponseRootCausesApi(APIView):
    """Code any response; its source is the caller's role (``manager`` or ``agent``)."""

    permission_classes = [CanWorkCases]

    @extend_schema(request=RootCausesInputSerializer, responses={200: ResponseCodesSerializer})
    def put(self, request: Request, response_id: int) -> ApiResponse:
        response = get_object_or_404(Response, pk=response_id)
        data = _valid(RootCausesInputSerializer, request)
        response_root_causes_set(response=response, actor=_actor(request), slugs=data["root_causes"])
        return _codes(response)


class SuggestionSerializer(serializers.Serializer):
    root_cause = serializers.SlugField(source="slug")
    name = serializers.CharField()
    category = serializers.SlugField(source="category_slug")
    # DRF's metaclass moves declared fields off the class, so this does not shadow Field.source.
    source = serializers.ChoiceField(choices=SuggestionDecision.Source.choices)  # type: ignore[assignment]
    keyword = serializers.CharField(allow_null=True, help_text="The keyword found in the comment, if any.")
    confidence = serializers.FloatField(
        allow_null=True, help_text="The classifier's probability, if it knows the cause."
    )
    why = serializers.CharField()


class SuggestionListSerializer(serializers.Serializer):
    model_version = serializers.IntegerField(allow_null=True, help_text="The classifier used; null before training.")
    results = SuggestionSerializer(many=True)


class DecisionSerializer(serializers.ModelSerializer):
    root_cause = serializers.SlugField(source="root_cause.slug")
    decided_by = serializers.CharField(source="decided_by.username", default=None, allow_null=True)

    class Meta:
        model = SuggestionDecision
        fields = ["id", "response", "root_cause", "source", "model_version", "accepted", "decided_by", "decided_at"]


class ResponseSuggestionsApi(APIView):
    """GET: what to suggest for a response. POST: accept (codes it) or reject (not offered again) one."""

    permission_classes = [CanWorkCases]

    @extend_schema_serializer(component_name="SuggestionDecisionInput")
    class InputSerializer(serializers.Serializer):
        root_cause = serializers.SlugField(max_length=80)
        source = serializers.ChoiceField(choices=SuggestionDecision.Source.choices)  # type: ignore[assignment]
        accepted = serializers.BooleanField()
        model_version = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**31 - 1)

    @extend_schema(responses=SuggestionListSerializer)
    def get(self, request: Request, response_id: int) -> ApiResponse:
        response = get_object_or_404(Response, pk=response_id)
        suggested = suggestions_for([response])
        body = {"model_version": suggested.model_version, "results": suggested.by_response[response.pk]}
        return ApiResponse(SuggestionListSerializer(body).data)

    @extend_schema(request=InputSerializer, responses={200: DecisionSerializer, 201: DecisionSerializer, 409: CONFLICT})
    def post(self, request: Request, response_id: int) -> ApiResponse:
        response = get_object_or_404(Response, pk=response_id)
        data: dict[str, Any] = _valid(self.InputSerializer, request)
        before = SuggestionDecision.objects.filter(response=response, root_cause__slug=data["root_cause"]).exists()
        decision = suggestion_decide(response=response, actor=_actor(request), **data)
        return ApiResponse(
            DecisionSerializer(decision).data, status=status.HTTP_200_OK if before else status.HTTP_201_CREATED
        )


class CauseScoresSerializer(serializers.Serializer):
    precision = serializers.FloatField(allow_null=True)
    recall = serializers.FloatField(allow_null=True)


class CauseMetricsSerializer(serializers.Serializer):
    root_cause = serializers.SlugField()
    support = serializers.IntegerField(help_text="Held-out comments coded with the cause.")
    learned = serializers.BooleanField(help_text="Whether the classifier knows the cause (enough examples).")
    classifier = CauseScoresSerializer()
    keywords = CauseScoresSerializer()


class MacroScoresSerializer(serializers.Serializer):
    """The means over the causes with held-out comments."""

    classifier = CauseScoresSerializer()
    keywords = CauseScoresSerializer()


class SuggestionModelSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    trained_at = serializers.DateTimeField()
    training_size = serializers.IntegerField()
    causes = serializers.ListField(child=serializers.SlugField())
    held_out = serializers.IntegerField(source="metrics.held_out")
    macro = serializers.SerializerMethodField()
    metrics = serializers.SerializerMethodField()

    @extend_schema_field(MacroScoresSerializer)
    def get_macro(self, model: Any) -> dict[str, Any]:
        return dict(MacroScoresSerializer(model.metrics["macro"]).data)

    @extend_schema_field(CauseMetricsSerializer(many=True))
    def get_metrics(self, model: Any) -> list[dict[str, Any]]:
        rows = [{"root_cause": slug, **scores} for slug, scores in model.metrics["causes"].items()]
        return list(CauseMetricsSerializer(rows, many=True).data)


class SuggestionModelApi(APIView):
    """The classifier in use: version, training, and precision and recall on the held-out comments."""

    permission_classes = [IsManager]

    @extend_schema(
        responses={200: SuggestionModelSerializer, 404: OpenApiResponse(description="No model trained yet.")}
    )
    def get(self, request: Request) -> ApiResponse:
        model = suggestion_model_current()
        if model is None:
            return ApiResponse({"detail": "No model trained yet."}, status=status.HTTP_404_NOT_FOUND)
        return ApiResponse(SuggestionModelSerializer(model).data)


class SuggestionTrainApi(APIView):
    """Queue a training of the classifier on every coded comment; the task cluster runs it."""

    permission_classes = [IsManager]

    class QueuedSerializer(serializers.Serializer):
        queued = serializers.BooleanField()

    @extend_schema(request=None, responses={202: QueuedSerializer})
    def post(self, request: Request) -> ApiResponse:
        suggestion_model_train_enqueue()
        return ApiResponse({"queued": True}, status=status.HTTP_202_ACCEPTED)
