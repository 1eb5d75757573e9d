from __future__ import annotations

from django.urls import path

from surveys import customer_views, survey_page, views, wave_views

urlpatterns = [
    path("imports/", views.import_upload, name="import-upload"),
    path("imports/<int:pk>/", views.import_detail, name="import-detail"),
    path("imports/<int:pk>/preview/", views.import_preview_page, name="import-preview"),
    path("surveys/waves/", wave_views.waves, name="survey-waves"),
    path("s/<str:token>/", survey_page.answer, name="survey-answer"),
    path("s/<str:token>/thanks/", survey_page.thanks, name="survey-thanks"),
    # The customer's own pages, from the signed links in their emails (no login).
    path("c/preferences/<str:token>/", customer_views.preferences, name="customer-preferences"),
    path("c/unsubscribe/<str:token>/", customer_views.unsubscribe, name="customer-unsubscribe"),
    path("c/stop-surveys/<str:token>/", customer_views.stop_surveys, name="customer-stop-surveys"),
]
