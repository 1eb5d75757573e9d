from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from closedloop import apis, views

api_v1 = [
    path("auth/token/", apis.TokenApi.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[]), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema", permission_classes=[]), name="api-docs"),
    path("users/", apis.UserListCreateApi.as_view(), name="api-users"),
    path("responses/", apis.ResponseListIngestApi.as_view(), name="api-responses"),
    path("responses/bulk/", apis.ResponseBulkIngestApi.as_view(), name="api-responses-bulk"),
    path("nps/", apis.NpsApi.as_view(), name="api-nps"),
    path("", include("surveys.api_urls")),
    path("", include("followups.api_urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("admin/", admin.site.urls),
    path("", include("surveys.urls")),
    path("", include("followups.urls")),
    path("", include("django.contrib.auth.urls")),
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
]
