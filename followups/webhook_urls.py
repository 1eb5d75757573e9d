"""Webhook pages, included at the site root."""

from __future__ import annotations

from django.urls import path

from followups import webhook_views

urlpatterns = [
    path("webhooks/", webhook_views.webhook_list, name="webhook-list"),
    path("webhooks/<int:pk>/", webhook_views.webhook_detail, name="webhook-detail"),
    path("webhooks/<int:pk>/active/", webhook_views.webhook_active, name="webhook-active"),
    path("webhooks/<int:pk>/delete/", webhook_views.webhook_delete, name="webhook-delete"),
    path(
        "webhooks/deliveries/<int:pk>/replay/",
        webhook_views.webhook_delivery_replay_view,
        name="webhook-delivery-replay",
    ),
]
