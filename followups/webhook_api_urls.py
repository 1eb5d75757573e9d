"""Webhook API routes, included under /api/v1/."""

from __future__ import annotations

from django.urls import path

from followups import webhook_apis

urlpatterns = [
    path("webhooks/", webhook_apis.WebhookListCreateApi.as_view(), name="api-webhooks"),
    path("webhooks/<int:pk>/", webhook_apis.WebhookDetailApi.as_view(), name="api-webhook"),
    path("webhooks/<int:pk>/deliveries/", webhook_apis.WebhookDeliveryListApi.as_view(), name="api-webhook-deliveries"),
    path(
        "webhook-deliveries/<int:pk>/replay/",
        webhook_apis.WebhookDeliveryReplayApi.as_view(),
        name="api-webhook-delivery-replay",
    ),
]
