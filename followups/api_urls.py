"""The loops' endpoints, mounted under /api/v1/."""

from __future__ import annotations

from django.urls import path

from followups.apis import cases, customers, improvements, root_causes, suggestions, teams, themes, updates, webhooks

urlpatterns = [
    path("teams/", teams.TeamListCreateApi.as_view(), name="api-teams"),
    path("teams/<slug:slug>/", teams.TeamDetailApi.as_view(), name="api-team"),
    path("root-causes/", root_causes.RootCauseListCreateApi.as_view(), name="api-root-causes"),
    path("root-causes/<slug:slug>/", root_causes.RootCauseDetailApi.as_view(), name="api-root-cause"),
    path("root-causes/<slug:slug>/merge/", root_causes.RootCauseMergeApi.as_view(), name="api-root-cause-merge"),
    path("themes/", themes.ThemeListApi.as_view(), name="api-themes"),
    path("improvements/", improvements.ImprovementListCreateApi.as_view(), name="api-improvements"),
    path("improvements/<int:pk>/", improvements.ImprovementDetailApi.as_view(), name="api-improvement"),
    path("improvements/<int:pk>/impact/", improvements.ImprovementImpactApi.as_view(), name="api-improvement-impact"),
    path("improvements/<int:pk>/ship/", updates.ImprovementShipApi.as_view(), name="api-improvement-ship"),
    path("improvements/<int:pk>/updates/", updates.ImprovementUpdateListApi.as_view(), name="api-improvement-updates"),
    path("improvements/<int:pk>/preview/", updates.ImprovementPreviewApi.as_view(), name="api-improvement-preview"),
    path("cases/", cases.CaseListApi.as_view(), name="api-cases"),
    path("cases/<int:case_id>/", cases.CaseDetailApi.as_view(), name="api-case"),
    path("cases/<int:case_id>/transition/", cases.CaseTransitionApi.as_view(), name="api-case-transition"),
    path("cases/<int:case_id>/assign/", cases.CaseAssignApi.as_view(), name="api-case-assign"),
    path("cases/<int:case_id>/notes/", cases.CaseNoteApi.as_view(), name="api-case-notes"),
    path("cases/<int:case_id>/contacts/", cases.CaseContactApi.as_view(), name="api-case-contacts"),
    path("cases/<int:case_id>/root-causes/", cases.CaseRootCausesApi.as_view(), name="api-case-root-causes"),
    path("cases/<int:case_id>/events/", cases.CaseEventsApi.as_view(), name="api-case-events"),
    path("customers/<str:external_id>/", customers.CustomerDetailApi.as_view(), name="api-customer"),
    path("customers/<str:external_id>/export/", customers.CustomerExportApi.as_view(), name="api-customer-export"),
    path(
        "responses/<int:response_id>/root-causes/",
        suggestions.ResponseRootCausesApi.as_view(),
        name="api-response-root-causes",
    ),
    path(
        "responses/<int:response_id>/suggestions/",
        suggestions.ResponseSuggestionsApi.as_view(),
        name="api-response-suggestions",
    ),
    path("suggestions/model/", suggestions.SuggestionModelApi.as_view(), name="api-suggestion-model"),
    path("suggestions/train/", suggestions.SuggestionTrainApi.as_view(), name="api-suggestions-train"),
    path("resolution-codes/", cases.ResolutionCodeListApi.as_view(), name="api-resolution-codes"),
    path("webhooks/", webhooks.WebhookListCreateApi.as_view(), name="api-webhooks"),
    path("webhooks/<int:pk>/", webhooks.WebhookDetailApi.as_view(), name="api-webhook"),
    path(
        "webhooks/<int:pk>/rotate-secret/", webhooks.WebhookSecretRotateApi.as_view(), name="api-webhook-rotate-secret"
    ),
    path("webhooks/<int:pk>/deliveries/", webhooks.WebhookDeliveryListApi.as_view(), name="api-webhook-deliveries"),
    path(
        "webhook-deliveries/<int:pk>/replay/",
        webhooks.WebhookDeliveryReplayApi.as_view(),
        name="api-webhook-delivery-replay",
    ),
]
