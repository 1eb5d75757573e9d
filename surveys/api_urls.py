"""Intake endpoints, mounted under /api/v1/."""

from __future__ import annotations

from django.urls import path

from surveys import apis, helpdesk_apis, invitation_apis

urlpatterns = [
    path("surveys/", apis.SurveyListCreateApi.as_view(), name="api-surveys"),
    path("surveys/<slug:slug>/", apis.SurveyDetailApi.as_view(), name="api-survey"),
    path("invitations/", invitation_apis.InvitationCreateApi.as_view(), name="api-invitations"),
    path("webhooks/helpdesk/", helpdesk_apis.HelpdeskWebhookApi.as_view(), name="api-helpdesk-webhook"),
    path("invitations/recovery/", invitation_apis.RecoveryApi.as_view(), name="api-invitation-recovery"),
    path("invitations/stats/", invitation_apis.InvitationStatsApi.as_view(), name="api-invitation-stats"),
    path("invitations/<int:pk>/", invitation_apis.InvitationDetailApi.as_view(), name="api-invitation"),
]
