"""Intake endpoints, mounted under /api/v1/."""

from __future__ import annotations

from django.urls import path

from surveys import apis

urlpatterns = [
    path("surveys/", apis.SurveyListCreateApi.as_view(), name="api-surveys"),
    path("surveys/<slug:slug>/", apis.SurveyDetailApi.as_view(), name="api-survey"),
]
