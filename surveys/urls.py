from __future__ import annotations

from django.urls import path

from surveys import views

urlpatterns = [
    path("imports/", views.import_upload, name="import-upload"),
    path("imports/<int:pk>/", views.import_detail, name="import-detail"),
    path("imports/<int:pk>/preview/", views.import_preview_page, name="import-preview"),
]
