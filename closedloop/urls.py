from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from closedloop import apis, views
from followups import apis as followups_apis
from surveys import apis as surveys_apis

api_v1 = [
    path("auth/token/", apis.TokenApi.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[]), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema", permission_classes=[]), name="api-docs"),
    path("users/", apis.UserListCreateApi.as_view(), name="api-users"),
    path("responses/", apis.ResponseListIngestApi.as_view(), name="api-responses"),
    path("responses/bulk/", apis.ResponseBulkIngestApi.as_view(), name="api-responses-bulk"),
    path("nps/", apis.NpsApi.as_view(), name="api-nps"),
    path("surveys/", surveys_apis.SurveyListCreateApi.as_view(), name="api-surveys"),
    path("surveys/<slug:slug>/", surveys_apis.SurveyDetailApi.as_view(), name="api-survey"),
    path("teams/", followups_apis.TeamListCreateApi.as_view(), name="api-teams"),
    path("teams/<slug:slug>/", followups_apis.TeamDetailApi.as_view(), name="api-team"),
    path("root-causes/", followups_apis.RootCauseListCreateApi.as_view(), name="api-root-causes"),
    path("", include("followups.case_api_urls")),
    path("", include("followups.webhook_api_urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("admin/", admin.site.urls),
    path("", include("surveys.urls")),
    path("", include("followups.urls")),
    path("", include("followups.webhook_urls")),
    path("", include("django.contrib.auth.urls")),
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
]
